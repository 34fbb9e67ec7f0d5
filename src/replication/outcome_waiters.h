// OutcomeWaiters: the proposing side of Propose. A thread that proposed an
// operation registers a ticket under its op_id; the log follower completes
// every ticket of an op_id right after applying the record that carries it;
// the proposal's producer fails the ticket if the proposal never reached Kafka.
//
// Thread-safe. Tickets may be completed before anyone waits on them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/state_machine.h"

namespace kdfs {

class OutcomeTicket {
 public:
  // The proposal could not be delivered to Kafka (first report wins).
  void FailDelivery(const Status& status);
  // The record with this op_id was applied.
  void Complete(const ApplyOutcome& outcome);

  // Waits until the ticket is completed or failed, or `until`. Returns true
  // if it is no longer waiting.
  bool WaitUntil(std::chrono::steady_clock::time_point until);

  // REQUIRES: WaitUntil returned true. The outcome if completed.
  std::optional<ApplyOutcome> outcome() const;
  // ok unless delivery failed (and no outcome arrived).
  Status delivery_error() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<ApplyOutcome> outcome_;  // guarded by mu_
  Status delivery_error_;                // guarded by mu_
};

class OutcomeWaiters {
 public:
  std::shared_ptr<OutcomeTicket> Register(const std::string& op_id);
  // REQUIRES: `ticket` was registered under `op_id` and not yet unregistered.
  void Unregister(const std::string& op_id, const std::shared_ptr<OutcomeTicket>& ticket);
  // Completes (and forgets) every ticket registered under outcome.op_id.
  void Complete(const ApplyOutcome& outcome);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::multimap<std::string, std::shared_ptr<OutcomeTicket>> tickets_;  // guarded by mu_
};

}  // namespace kdfs
