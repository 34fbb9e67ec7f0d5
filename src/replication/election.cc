#include "replication/election.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "replication/kafka_util.h"

namespace kdfs {

namespace {
constexpr int kPollMs = 100;
}  // namespace

class Election::Rebalance final : public RdKafka::RebalanceCb {
 public:
  explicit Rebalance(Election* e) : e_(e) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      consumer->assign(partitions);
      const bool mine = std::any_of(partitions.begin(), partitions.end(), [&](auto* tp) {
        return tp->topic() == e_->options_.topic && tp->partition() == 0;
      });
      if (mine && !e_->candidate_.exchange(true)) {
        spdlog::info("election: node={} assigned the election partition: candidate",
                     e_->options_.node_id);
        e_->callbacks_.elected();
      }
    } else {
      // Revoked (rebalance, leaving) or lost (session expired): step down
      // before anything else; fencing guards the log regardless.
      if (e_->candidate_.exchange(false)) {
        spdlog::info("election: node={} partition {}: stepping down", e_->options_.node_id,
                     consumer->assignment_lost() ? "lost" : "revoked");
        e_->callbacks_.deposed();
      }
      consumer->unassign();
    }
  }

 private:
  Election* const e_;
};

Election::Election(ElectionOptions options, Callbacks callbacks, RdKafka::EventCb* events,
                   ReadyGate* topics_ready)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      events_(events),
      topics_ready_(topics_ready),
      rebalance_(std::make_unique<Rebalance>(this)) {}

Election::~Election() {
  Stop(true);
}

void Election::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Election::Stop(bool leave) {
  if (!stop_.exchange(true)) leave_on_stop_.store(leave);
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<RdKafka::KafkaConsumer> Election::Connect() {
  const int session = std::max(options_.session_timeout_ms, 1000);
  // Members notice a rebalance (a leader that left or was dropped) at their
  // next heartbeat, so it is short whatever the session is.
  const int heartbeat = std::clamp(session / 5, 100, 300);
  auto conf = kafka::NewConf(options_.brokers, options_.node_id, events_,
                             {{"group.id", options_.group},
                              {"group.instance.id", options_.node_id},
                              {"partition.assignment.strategy", "range"},
                              {"session.timeout.ms", std::to_string(session)},
                              {"heartbeat.interval.ms", std::to_string(heartbeat)},
                              // Also the rebalance timeout; our thread polls every 100 ms.
                              {"max.poll.interval.ms", std::to_string(std::max(10000, session))},
                              {"enable.auto.commit", "false"},
                              {"auto.offset.reset", "latest"}});
  if (!conf.ok()) {
    spdlog::error("election config: {}", conf.status().ToString());
    return nullptr;
  }
  std::string err;
  if ((*conf)->set("rebalance_cb", rebalance_.get(), err) != RdKafka::Conf::CONF_OK) {
    spdlog::error("election config: {}", err);
    return nullptr;
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) spdlog::error("election consumer: {}", err);
  return consumer;
}

void Election::Run() {
  while (!stop_.load() && !topics_ready_->WaitOpen(std::chrono::steady_clock::now() +
                                                   std::chrono::milliseconds(kPollMs))) {
  }
  while (!stop_.load()) {
    std::unique_ptr<RdKafka::KafkaConsumer> consumer = Connect();
    if (!consumer) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    bool subscribed = false;
    bool fatal = false;
    while (!stop_.load() && !fatal) {
      const bool eligible = !callbacks_.eligible || callbacks_.eligible();
      if (eligible && !subscribed && (!callbacks_.may_join || callbacks_.may_join())) {
        const RdKafka::ErrorCode rc = consumer->subscribe({options_.topic});
        if (rc == RdKafka::ERR_NO_ERROR) {
          subscribed = true;
        } else {
          spdlog::warn("election subscribe: {}", RdKafka::err2str(rc));
        }
      } else if (!eligible && subscribed) {
        spdlog::warn("election: node={} cannot apply the log: leaving the group", options_.node_id);
        consumer->unsubscribe();  // revokes (callback) and leaves
        subscribed = false;
      }
      std::unique_ptr<RdKafka::Message> msg(consumer->consume(kPollMs));
      if (msg->err() == RdKafka::ERR__FATAL) {
        // E.g. FENCED_INSTANCE_ID: another process took this node's static
        // identity. Start over with a fresh client.
        std::string reason;
        RdKafka::ErrorCode code = consumer->fatal_error(reason);
        spdlog::error("election: fatal consumer error {}: {}", RdKafka::err2str(code), reason);
        fatal = true;
      }
    }
    if (candidate_.exchange(false)) callbacks_.deposed();
    if (!fatal && subscribed && leave_on_stop_.load()) {
      // librdkafka sends LeaveGroup for a static member only if the
      // unsubscribe completes before close() starts terminating: serve the
      // revocation here, then give the request a moment to go out.
      consumer->unsubscribe();
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
      while (std::chrono::steady_clock::now() < until) {
        std::unique_ptr<RdKafka::Message> msg(consumer->consume(20));
      }
    }
    consumer->close();
    if (fatal && !stop_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace kdfs
