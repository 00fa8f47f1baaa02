#include "loadgen/report.h"

#include <gtest/gtest.h>

namespace simq::loadgen {
namespace {

TEST(ReportTest, JsonHasTheSummaryFieldsAndVerdict) {
  Summary s;
  s.options.scenario = Scenario::kFanIn;
  s.options.pubs = 10;
  s.options.subs = 1;
  s.run_id = "abc123";
  s.measured_s = 2;
  s.sent = s.sent_measured = 2'000'000;
  s.received = s.received_measured = 2'000'000;
  s.expected = 2'000'000;
  for (int i = 1; i <= 100; ++i) s.latency.Record(static_cast<uint64_t>(i) * 1000);
  s.per_subscriber = {90, 100, 110};
  Judge(&s);
  const std::string j = ToJson(s);
  EXPECT_NE(j.find("\"scenario\": \"fanin\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"sent_per_s\": 1000000"), std::string::npos) << j;
  EXPECT_NE(j.find("\"received_per_s\": 1000000"), std::string::npos) << j;
  EXPECT_NE(j.find("\"p50\": 50"), std::string::npos) << j;
  EXPECT_NE(j.find("\"max\": 100"), std::string::npos) << j;
  EXPECT_NE(j.find("\"spread\": 0.2"), std::string::npos) << j;
  EXPECT_NE(j.find("\"verdict\": \"ok\""), std::string::npos) << j;
  EXPECT_EQ(j.back(), '\n');
}

TEST(ReportTest, FailuresNameWhatWentWrong) {
  Summary s;
  s.options.qos = 2;
  s.loss = 3;
  s.duplicates = 1;
  s.errors = 2;
  s.silent_drops = 3;
  s.error_samples = {"lg-x-p0: \"quoted\""};
  Judge(&s);
  ASSERT_EQ(s.failures.size(), 4u);
  const std::string j = ToJson(s);
  EXPECT_NE(j.find("duplicates at QoS 2: 1"), std::string::npos) << j;
  EXPECT_NE(j.find("\\\"quoted\\\""), std::string::npos) << j;

  Summary q1;
  q1.options.qos = 1;
  q1.duplicates = 5;  // allowed at QoS 1: counted, not failed
  Judge(&q1);
  EXPECT_TRUE(q1.failures.empty());
}

TEST(ReportTest, BrokerCpuPerDeliveryAndMemoryPerConnection) {
  Summary s;
  s.options.scenario = Scenario::kFanIn;
  s.options.broker_pid = 42;
  s.measured_s = 2;
  s.received_measured = 4'000'000;
  s.broker_measured = true;
  s.broker_cpu_s = 2;
  s.broker_rss_start_kb = 1000;
  s.broker_rss_max_kb = 3000;
  s.broker_rss_end_kb = 2000;
  std::string j = ToJson(s);
  EXPECT_NE(j.find("\"broker\": {\"pid\": 42, \"cpu_s\": 2, \"cpu_per_delivery_us\": 0.5"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"rss_max_kb\": 3000"), std::string::npos) << j;
  EXPECT_EQ(j.find("rss_per_connection_bytes"), std::string::npos) << j;

  s.options.scenario = Scenario::kConn;
  s.connections = 1000;
  j = ToJson(s);
  EXPECT_NE(j.find("\"rss_per_connection_bytes\": 1024"), std::string::npos) << j;

  s.broker_measured = false;
  EXPECT_EQ(ToJson(s).find("\"broker\""), std::string::npos);
}

TEST(ReportTest, ProgressLine) {
  Histogram h;
  h.Record(120'000);
  Progress p;
  p.t = 3;
  p.sent_per_s = 1'520'000;
  p.received_per_s = 15'200;
  p.latency = &h;
  const std::string line = ProgressLine(p);
  EXPECT_NE(line.find("sent   1.52M/s"), std::string::npos) << line;
  EXPECT_NE(line.find("recv   15.2k/s"), std::string::npos) << line;
  EXPECT_NE(line.find("p50 120us"), std::string::npos) << line;
}

}  // namespace
}  // namespace simq::loadgen
