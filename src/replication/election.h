// Election: every node is a member of one consumer group (<prefix>.election)
// subscribed to the one-partition topic <prefix>.election; the member that is
// assigned partition 0 is the leader candidate. Being the candidate is not
// being the leader: the candidate still has to fence the previous leader
// through the shared transactional.id (see Sequencer), so two members that
// both believe they hold partition 0 can never both append to the log.
//
// Choices (DESIGN §8):
// * Static membership, group.instance.id = node id. A node restarted within
//   the session timeout gets its assignment back without a rebalance, and a
//   crashed member is dropped by the broker after session.timeout.ms.
// * The eager "range" assignor. With static members librdkafka orders members
//   by group.instance.id, so partition 0 goes to the smallest live node id:
//   deterministic and independent of join order. Its cost: a rebalance
//   revokes every assignment first, so any membership change makes the
//   candidate step down and (if it keeps partition 0) re-fence and write a
//   new leader record, and a returning smaller node id takes leadership
//   back. Both are brief (one init_transactions) and safe. Not
//   "cooperative-sticky": librdkafka 2.0.2 has known cooperative-rebalance
//   bugs (fixed in 2.2-2.8), and leadership moves must be clean.
// * session.timeout.ms short (default 1500 ms, the broker's minimum is
//   1000 ms) and heartbeat.interval.ms a fifth of it: a crashed leader is
//   replaced about session + one heartbeat after it died.
// * Leaving: Stop(leave=true) unsubscribes first, which makes librdkafka send
//   LeaveGroup even for a static member, so the others rebalance at once.
//   A static member that is only closed (or crashes) does not leave; the
//   broker waits for its session to time out.
// * A node whose state machine cannot apply (eligible() false) leaves the
//   group until it can again, so that it never holds leadership it cannot
//   exercise.
// * A node joins (or rejoins) only once may_join() holds, e.g. once it has
//   caught up with the log: the static ids make a returning node take
//   partition 0 back at once, and a candidate that must first replay a long
//   backlog leaves the cluster without a writer meanwhile (found by the chaos
//   harness: 20-49 s without a leader after a restart). A member that falls
//   behind is not made to leave by it.
//
// Threading: one thread of its own polls the group (rebalance callbacks run
// on it). The callbacks must not block: they only signal the sequencer.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "replication/ready_gate.h"

namespace kdfs {

struct ElectionOptions {
  std::string brokers;
  std::string node_id;
  std::string topic;  // <prefix>.election
  std::string group;  // <prefix>.election
  int session_timeout_ms = 1500;
};

class Election {
 public:
  struct Callbacks {
    std::function<void()> elected;   // partition 0 assigned to this node
    std::function<void()> deposed;   // partition 0 revoked or lost
    std::function<bool()> eligible;  // may this node be a member now?
    std::function<bool()> may_join;  // and may it join now? (unset: yes)
  };

  // REQUIRES: events and topics_ready outlive this object.
  Election(ElectionOptions options, Callbacks callbacks, RdKafka::EventCb* events,
           ReadyGate* topics_ready);
  ~Election();  // Stop(true)

  void Start();
  // leave=true: leave the group now (others rebalance at once).
  // leave=false: close without leaving, as a crashed process would.
  // Idempotent; the first call decides.
  void Stop(bool leave);

  // True while this node holds partition 0.
  bool candidate() const { return candidate_.load(); }

 private:
  class Rebalance;
  void Run();
  std::unique_ptr<RdKafka::KafkaConsumer> Connect();

  const ElectionOptions options_;
  const Callbacks callbacks_;
  RdKafka::EventCb* const events_;
  ReadyGate* const topics_ready_;
  std::unique_ptr<Rebalance> rebalance_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> leave_on_stop_{true};
  std::atomic<bool> candidate_{false};
  std::thread thread_;
};

}  // namespace kdfs
