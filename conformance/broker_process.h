// The broker under test as a child process, for `suite --broker-binary PATH`: started on a free
// loopback port with simq's command line (`--listen tcp://127.0.0.1:PORT [--config FILE]
// --data-dir DIR`), its output in a log file, stopped (SIGTERM, then SIGKILL) with the object.
//
//   absl::StatusOr<std::unique_ptr<BrokerProcess>> b = BrokerProcess::Start(path, config, dir);
//   endpoint.port = (*b)->port();
//
// Owner: the suite's main(); not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <sys/types.h>

#include "absl/status/statusor.h"

namespace simq::conformance {

class BrokerProcess {
 public:
  // `config` may be empty (the broker's default configuration). `work_dir` holds the log and
  // the data directory. Waits until the port accepts connections.
  static absl::StatusOr<std::unique_ptr<BrokerProcess>> Start(const std::string& binary,
                                                              const std::string& config,
                                                              const std::string& work_dir);
  ~BrokerProcess();

  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }
  // True while the process has not exited.
  bool running();
  // The last `max_bytes` of the log.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  BrokerProcess() = default;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
  bool exited_ = false;
};

// A loopback TCP port that was free a moment ago.
uint16_t PickFreePort();
// True once 127.0.0.1:`port` accepts TCP connections, polling until `timeout`.
bool WaitForPort(uint16_t port, std::chrono::milliseconds timeout);

}  // namespace simq::conformance
