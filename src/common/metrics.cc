#include "common/metrics.h"

#include <sstream>

namespace kdfs {

const std::vector<double>& Metrics::Buckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

void Metrics::Describe(const std::string& name, Type type, const std::string& help) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  }
}

void Metrics::Add(const std::string& name, const std::string& labels, double delta) {
  std::lock_guard lock(mu_);
  families_[name].values[labels] += delta;
}

void Metrics::Set(const std::string& name, const std::string& labels, double value) {
  std::lock_guard lock(mu_);
  families_[name].values[labels] = value;
}

void Metrics::Clear(const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) it->second.values.clear();
}

void Metrics::Observe(const std::string& name, const std::string& labels, double value) {
  std::lock_guard lock(mu_);
  Family& family = families_[name];
  family.type = Type::kHistogram;
  Histogram& h = family.histograms[labels];
  if (h.counts.empty()) h.counts.assign(Buckets().size(), 0);
  for (size_t i = 0; i < Buckets().size(); ++i) {
    if (value <= Buckets()[i]) {
      h.counts[i] += 1;
      break;
    }
  }
  h.sum += value;
  h.count += 1;
}

void Metrics::AddCollector(std::function<void(Metrics&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

namespace {
std::string WithLabel(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return "{" + labels + "," + extra + "}";
}
std::string Braced(const std::string& labels) {
  return labels.empty() ? "" : "{" + labels + "}";
}
}  // namespace

std::string Metrics::Render() {
  std::vector<std::function<void(Metrics&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors)
    c(*this);
  std::lock_guard lock(mu_);
  std::ostringstream out;
  out.precision(17);
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    if (!f.help.empty()) out << "# HELP " << name << " " << f.help << "\n";
    out << "# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, v] : f.values)
      out << name << Braced(labels) << " " << v << "\n";
    for (const auto& [labels, h] : f.histograms) {
      double cumulative = 0;
      for (size_t i = 0; i < Buckets().size(); ++i) {
        cumulative += h.counts[i];
        std::ostringstream le;
        le << Buckets()[i];
        out << name << "_bucket" << WithLabel(labels, "le=\"" + le.str() + "\"") << " "
            << cumulative << "\n";
      }
      out << name << "_bucket" << WithLabel(labels, "le=\"+Inf\"") << " " << h.count << "\n";
      out << name << "_sum" << Braced(labels) << " " << h.sum << "\n";
      out << name << "_count" << Braced(labels) << " " << h.count << "\n";
    }
  }
  return out.str();
}

}  // namespace kdfs
