#include "broker/testing/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "broker/testing/ports.h"

namespace simq::testing {
namespace {

TEST(ProcessTest, CapturesOutputAndExitStatus) {
  Process p({"/bin/sh", "-c", "echo hello; exit 3"}, TestTempDir() + "/sh.log");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.Wait(std::chrono::seconds(10)), 3);
  EXPECT_EQ(p.Log(), "hello\n");
}

TEST(ProcessTest, KillStopsARunningProcess) {
  Process p({"sleep", "60"}, TestTempDir() + "/sleep.log");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.running());
  p.Kill(SIGKILL);
  EXPECT_FALSE(p.running());
}

TEST(PortsTest, PickedPortIsNotListening) {
  uint16_t port = PickFreePort();
  ASSERT_NE(port, 0);
  EXPECT_FALSE(WaitForPort(port, std::chrono::milliseconds(20)));
}

}  // namespace
}  // namespace simq::testing
