#include "replication/outcome_waiters.h"

#include <vector>

namespace kdfs {

void OutcomeTicket::FailDelivery(const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (delivery_error_.ok()) delivery_error_ = status;
  cv_.notify_all();
}

void OutcomeTicket::Complete(const ApplyOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!outcome_) outcome_ = outcome;
  cv_.notify_all();
}

bool OutcomeTicket::WaitUntil(std::chrono::steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, until, [&] { return outcome_.has_value() || !delivery_error_.ok(); });
}

std::optional<ApplyOutcome> OutcomeTicket::outcome() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outcome_;
}

Status OutcomeTicket::delivery_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return delivery_error_;
}

std::shared_ptr<OutcomeTicket> OutcomeWaiters::Register(const std::string& op_id) {
  auto ticket = std::make_shared<OutcomeTicket>();
  std::lock_guard<std::mutex> lock(mu_);
  tickets_.emplace(op_id, ticket);
  return ticket;
}

void OutcomeWaiters::Unregister(const std::string& op_id,
                                const std::shared_ptr<OutcomeTicket>& ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [begin, end] = tickets_.equal_range(op_id);
  for (auto it = begin; it != end; ++it) {
    if (it->second == ticket) {
      tickets_.erase(it);
      return;
    }
  }
}

void OutcomeWaiters::Complete(const ApplyOutcome& outcome) {
  std::vector<std::shared_ptr<OutcomeTicket>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [begin, end] = tickets_.equal_range(outcome.op_id);
    for (auto it = begin; it != end; ++it)
      done.push_back(it->second);
    tickets_.erase(begin, end);
  }
  for (auto& t : done)
    t->Complete(outcome);
}

size_t OutcomeWaiters::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tickets_.size();
}

}  // namespace kdfs
