// Debian's mosquitto_pub and mosquitto_sub (package mosquitto-clients) as test clients of one
// broker port: simq, or a Mosquitto broker in the bridge tests.
//
//   MosquittoClients cli(broker.port());
//   auto sub = cli.Subscribed("mqttv5", {"-q", "2", "-t", "a/#"});   // waits for the SUBACK
//   cli.Pub("mqttv311", {"-q", "1", "-t", "a/b", "-m", "hi"});        // runs to completion
//   ASSERT_TRUE(sub->WaitMessages(1)) << sub->Output();
//   EXPECT_THAT(sub->Messages(), ElementsAre("MSG r=0 q=1 a/b hi"));
//
// Every client runs with -d, so a test sees the packets it exchanged ("received PUBACK (Mid: 1,
// RC:0)") as well as what it printed; subscribers print each message as one
// "MSG r=<retain> q=<qos> <topic> <payload>" line (kMessageFormat). Owned by one test, on the
// test's thread; each client's output goes to its own file in the test's temp dir.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "broker/testing/process.h"

namespace simq::interop {

inline constexpr char kMosquittoPub[] = "/usr/bin/mosquitto_pub";
inline constexpr char kMosquittoSub[] = "/usr/bin/mosquitto_sub";
// mosquitto_sub -F format of one message.
inline constexpr char kMessageFormat[] = "MSG r=%r q=%q %t %p";
// How long anything expected may take to arrive.
inline constexpr std::chrono::seconds kArrive{10};

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The "MSG ..." lines of a client's output, in order.
std::vector<std::string> MessageLines(const std::string& output);

// "<test name>-<what>-<pid>-<n>": unique topics, client ids and file names.
std::string UniqueName(const std::string& what);

// Success if mosquitto_pub and mosquitto_sub are installed; else a message naming the Debian
// package and tools/setup.
::testing::AssertionResult MosquittoClientsInstalled();

// A long-running client (mosquitto_sub) printing into its own log.
class CliClient {
 public:
  CliClient(std::vector<std::string> argv, const std::string& name);

  bool ok() const { return process_.ok(); }
  std::string Output() const { return process_.Log(); }
  std::vector<std::string> Messages() const { return MessageLines(Output()); }
  testing::Process& process() { return process_; }

  // Waits until the broker acknowledged the subscriptions.
  bool WaitSubscribed();
  // Waits until `n` messages have been printed.
  bool WaitMessages(size_t n);

 private:
  testing::Process process_;
};

// mosquitto_pub / mosquitto_sub against 127.0.0.1:`port`.
class MosquittoClients {
 public:
  explicit MosquittoClients(uint16_t port) : port_(port) {}

  // `tool` -d -V `version` -h 127.0.0.1 -p PORT, with line-buffered output: the clients'
  // stdout is a file, which libc would buffer until exit, and a test waits for each line
  // ("received SUBACK") as it is printed. stdbuf execs the tool (same pid).
  std::vector<std::string> Common(const char* tool, const std::string& version) const;

  // Runs mosquitto_pub to completion; its output. Fails the test unless it exits 0.
  std::string Pub(const std::string& version, const std::vector<std::string>& args) const;

  // Starts mosquitto_sub printing kMessageFormat (or `format`) lines; `args` add topics and
  // options.
  std::unique_ptr<CliClient> Sub(const std::string& version, const std::vector<std::string>& args,
                                 const std::string& format = kMessageFormat) const;

  // A subscriber that is known to be subscribed.
  std::unique_ptr<CliClient> Subscribed(const std::string& version,
                                        const std::vector<std::string>& args,
                                        const std::string& format = kMessageFormat) const;

 private:
  uint16_t port_;
};

}  // namespace simq::interop
