#include "common/metrics.h"

#include <gtest/gtest.h>

namespace kdfs {
namespace {

TEST(Metrics, CountersGaugesAndClear) {
  Metrics m;
  m.Describe("c_total", Metrics::Type::kCounter, "a counter");
  m.Add("c_total", R"(route="a")");
  m.Add("c_total", R"(route="a")", 2);
  m.Set("g", R"(node="n1")", 5);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE c_total counter"), std::string::npos);
  EXPECT_NE(text.find(R"(c_total{route="a"} 3)"), std::string::npos);
  EXPECT_NE(text.find(R"(g{node="n1"} 5)"), std::string::npos);
  m.Clear("g");
  m.Set("g", R"(node="n2")", 6);
  text = m.Render();
  EXPECT_EQ(text.find(R"(node="n1")"), std::string::npos);
  EXPECT_NE(text.find(R"(g{node="n2"} 6)"), std::string::npos);
  m.Clear("absent");  // no effect
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m;
  m.Observe("h_seconds", R"(route="x")", 0.003);
  m.Observe("h_seconds", R"(route="x")", 20);
  std::string text = m.Render();
  EXPECT_NE(text.find(R"(h_seconds_bucket{route="x",le="0.005"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(h_seconds_bucket{route="x",le="10"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(h_seconds_bucket{route="x",le="+Inf"} 2)"), std::string::npos);
  EXPECT_NE(text.find(R"(h_seconds_count{route="x"} 2)"), std::string::npos);
}

}  // namespace
}  // namespace kdfs
