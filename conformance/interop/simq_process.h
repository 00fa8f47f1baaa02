// The simq broker binary (//broker) as a child process for interop tests: a fresh broker per
// test on a free loopback port, with its data directory and log in the test's temp dir.
//
//   SimqProcess broker;
//   ASSERT_TRUE(broker.Start()) << broker.error();
//   RunThirdPartyClient("127.0.0.1", broker.port());
//   if (HasFailure()) std::cerr << broker.Log();
//
// The binary and its configuration come from the runfiles, named by two environment variables
// the BUILD file sets: SIMQ_BROKER_BINARY = $(rootpath //broker) and SIMQ_BROKER_CONFIG =
// $(rootpath //config:config.toml). Owned by one test, on the test's thread; the destructor
// stops the broker (SIGTERM, then SIGKILL).
//
// More listeners (WebSocket, TLS) go through AddListener() before Start():
//
//   broker.AddListener("wss", fmt::format("cert_file = \"{}\"\nkey_file = \"{}\"\n", ...));
//   ASSERT_TRUE(broker.Start()) << broker.error();
//   Connect(fmt::format("wss://127.0.0.1:{}/mqtt", broker.listener_port("wss")));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/testing/process.h"

namespace simq::interop {

class SimqProcess {
 public:
  SimqProcess() = default;
  ~SimqProcess();

  SimqProcess(const SimqProcess&) = delete;
  SimqProcess& operator=(const SimqProcess&) = delete;

  // Before Start(): one more listener of `type` (tcp, tls, ws, wss; see docs/config.md) on its
  // own free loopback port, with `options`, TOML `key = value` lines, added to its
  // [[listeners]] table (cert_file and key_file for tls and wss; ws_path; ...). With any, the
  // broker runs with a configuration file written to the test's temp dir that lists the plain
  // TCP listener and these, instead of SIMQ_BROKER_CONFIG and --listen (the shipped file sets
  // nothing but its listener).
  void AddListener(std::string type, std::string options = "");

  // Starts the broker with `--listen tcp://127.0.0.1:PORT` (and the added listeners) and waits
  // until it accepts connections on every port. False (see error()) if the binary is missing
  // or it did not come up.
  bool Start();
  // After Stop(): starts the broker again on the same port with the same data directory, as an
  // operator restarting it would, and waits until it accepts connections. False (see error())
  // if it did not come back.
  bool StartAgain();
  // SIGTERM, then SIGKILL after a grace period; the broker's exit status (0 for a clean
  // shutdown, 128 + signal if it died of one), nullopt if Start() did not succeed. Under
  // --config=asan a leak or memory error at shutdown shows up here as a non-zero status, with
  // the report in Log().
  std::optional<int> Stop();

  // The plain TCP listener's port.
  uint16_t port() const { return port_; }
  // The port of the first listener AddListener() added with `type`; 0 if there is none.
  uint16_t listener_port(const std::string& type) const;
  // "127.0.0.1:PORT".
  std::string address() const;
  const std::string& error() const { return error_; }
  // Everything the broker logged so far (since the last Start() or StartAgain(): each run logs
  // into its own file, and the earlier ones stay in the test's temp dir).
  std::string Log() const;

 private:
  struct Listener {
    std::string type;
    std::string options;
    uint16_t port = 0;
  };

  // Runs the binary on port_ (and the listeners_) with data_dir_, logging into `log`; true
  // once it listens on every port.
  bool Launch(const std::string& log);
  // The configuration file for listeners_, written next to the data directory.
  std::string WriteConfig() const;

  uint16_t port_ = 0;
  std::vector<Listener> listeners_;
  bool started_ = false;
  std::string binary_;
  std::string config_;
  std::string data_dir_;
  std::string name_;  // simq-<instance>-<attempt>: names the data dir and the logs
  int runs_ = 0;
  std::unique_ptr<testing::Process> process_;
  std::string error_;
};

// The runfiles path in environment variable `name`, made absolute; empty (and a gtest
// failure naming the variable) if it is unset or names nothing.
std::string RunfilesPathFromEnv(const char* name);

// The simq cache directory tools/setup fills: $SIMQ_CACHE_DIR, else $XDG_CACHE_HOME/simq, else
// $HOME/.cache/simq (the same rule as third_party/*/fetch).
std::string CacheDir();

}  // namespace simq::interop
