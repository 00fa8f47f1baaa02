// A whole broker node from a configuration: the core, its workers and its listeners.
//
//   server::Server server(config);
//   absl::Status s = server.Start();        // listeners bound; ports() tells which ports
//   ...
//   server.Stop();                          // clients get DISCONNECT 0x8B (MQTT 5)
//
// Tests run it in-process with listener port 0 (STYLE §33); main() runs it until a signal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "broker/auth/file_auth.h"
#include "broker/base/clock.h"
#include "broker/config/config.h"
#include "broker/core/broker.h"
#include "broker/net/listener.h"
#include "broker/store/store_interface.h"

namespace simq::server {

struct ServerOptions {
  const base::Clock* clock = nullptr;  // RealClock when null
  // Null: the store config().store names (RocksDB in data_dir, or none). Tests pass their own;
  // it must outlive the server.
  store::Store* store = nullptr;
  core::BrokerOptions broker;
};

class Server {
 public:
  explicit Server(config::Config config, ServerOptions options = {});
  ~Server();

  // Opens the durable store and restores what it holds, starts the workers, then binds every
  // listener. On any error (e.g. a corrupt data directory, naming it) nothing stays open.
  absl::Status Start();
  void Stop();

  // SIGHUP: reloads what can change without a restart (TLS certificates, password and ACL
  // files). Established connections are not dropped. Errors are logged (and the first is
  // returned); what failed to load keeps its previous state.
  absl::Status Reload();

  // Bound ports, in the order of config().listeners.
  std::vector<uint16_t> ports() const;
  // Valid once Start() succeeded.
  core::Broker& broker() { return *broker_; }
  const config::Config& config() const { return config_; }

 private:
  config::Config config_;
  ServerOptions options_;
  std::unique_ptr<store::Store> own_store_;
  std::shared_ptr<auth::FileAuthenticator> authenticator_;  // null if options brought one
  std::shared_ptr<auth::AclAuthorizer> authorizer_;         // null without acl_file
  std::unique_ptr<core::Broker> broker_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  bool started_ = false;
};

// The command line of //broker.
struct CommandLine {
  std::optional<std::string> config_path;  // --config PATH
  std::vector<std::string> listen;         // --listen URL (repeatable)
  std::optional<std::string> data_dir;     // --data-dir PATH
  std::optional<std::string> log_level;    // --log-level LEVEL
  bool help = false;
  bool version = false;
};

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv);
std::string Usage();

// Loads the configuration the command line names (--config, $SI_CFG_PATH, the default) and
// applies its overrides. Errors name the file, line and key, or the flag.
absl::StatusOr<config::Config> LoadConfig(const CommandLine& command_line);

}  // namespace simq::server
