// Metrics: a small Prometheus registry (counters, gauges, histograms with
// label sets) rendered in the text exposition format at GET /metrics.
//
// Thread-safe. Label sets are passed pre-rendered, e.g. R"(route="put",code="201")".
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kdfs {

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a family; later calls with the same name are ignored.
  void Describe(const std::string& name, Type type, const std::string& help);
  void Add(const std::string& name, const std::string& labels, double delta = 1);
  void Set(const std::string& name, const std::string& labels, double value);
  // Drops every series of a counter or gauge family (for a gauge whose label
  // changes, e.g. the current leader's id).
  void Clear(const std::string& name);
  // Records one observation (seconds or bytes) in a histogram family.
  void Observe(const std::string& name, const std::string& labels, double value);
  // Gauges computed at scrape time (applied offset, lag, store bytes...).
  void AddCollector(std::function<void(Metrics&)> collector);

  std::string Render();

 private:
  struct Histogram {
    std::vector<double> counts;  // per bucket, cumulative at render time
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Type type = Type::kGauge;
    std::string help;
    std::map<std::string, double> values;         // labels -> value
    std::map<std::string, Histogram> histograms;  // labels -> histogram
  };
  static const std::vector<double>& Buckets();

  std::mutex mu_;
  std::map<std::string, Family> families_;                 // guarded by mu_
  std::vector<std::function<void(Metrics&)>> collectors_;  // guarded by mu_
};

}  // namespace kdfs
