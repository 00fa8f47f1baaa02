#include "broker/server/server.h"

#include <cstdlib>
#include <filesystem>

#include "fmt/format.h"

#include "broker/base/format.h"
#include "broker/base/log.h"
#include "broker/store/rocksdb_store.h"

namespace simq::server {

Server::Server(config::Config config, ServerOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Server::~Server() {
  Stop();
}

absl::Status Server::Start() {
  store::Store* store = options_.store;
  if (store == nullptr && config_.store.backend == config::StoreBackend::kRocksDb) {
    absl::StatusOr<std::unique_ptr<store::RocksStore>> rocks = store::RocksStore::Open(
        {.path = config_.data_dir, .sync = config_.store.durability == config::Durability::kSync});
    if (!rocks.ok()) return rocks.status();
    own_store_ = *std::move(rocks);
    store = own_store_.get();
  }
  core::BrokerOptions broker_options = options_.broker;
  broker_options.store = store;
  const base::Clock& clock = options_.clock ? *options_.clock : base::RealClock::Get();
  // [auth]: the password file and anonymous access per listener, and the ACL file; tests may
  // bring their own.
  if (!broker_options.authenticator) {
    absl::StatusOr<std::shared_ptr<auth::FileAuthenticator>> a =
        auth::FileAuthenticator::Create(config_, clock);
    if (!a.ok()) return a.status();
    authenticator_ = *a;
    broker_options.authenticator = authenticator_;
  }
  if (!broker_options.authorizer && !config_.auth.acl_file.empty()) {
    absl::StatusOr<std::shared_ptr<auth::AclAuthorizer>> a =
        auth::AclAuthorizer::Create(config_.auth);
    if (!a.ok()) return a.status();
    authorizer_ = *a;
    broker_options.authorizer = authorizer_;
  }
  broker_ = std::make_unique<core::Broker>(config_, clock, std::move(broker_options));
  if (store != nullptr) {
    absl::StatusOr<store::LoadedState> state = store->Load();
    if (!state.ok()) return state.status();
    if (absl::Status s = broker_->Restore(*std::move(state)); !s.ok()) return s;
    SIMQ_LOG_INFO("durable store: {} ({})", store->location(),
                  config::DurabilityName(config_.store.durability));
  }
  if (absl::Status s = broker_->backplane().Start(); !s.ok()) return s;
  broker_->Start();
  started_ = true;
  for (const config::ListenerConfig& lc : config_.listeners) {
    auto listener = std::make_unique<net::Listener>(*broker_, lc);
    if (absl::Status s = listener->Start(); !s.ok()) {
      listener.reset();  // it refers to the broker that Stop() destroys
      Stop();
      return s;
    }
    listeners_.push_back(std::move(listener));
  }
  SIMQ_LOG_INFO("simq running with {} workers", broker_->worker_count());
  return absl::OkStatus();
}

void Server::Stop() {
  if (!started_) return;
  started_ = false;
  for (auto& l : listeners_) l->Stop();
  broker_->Stop();
  broker_->backplane().Stop();
  listeners_.clear();
  broker_.reset();  // before the store it writes to
  own_store_.reset();
}

absl::Status Server::Reload() {
  SIMQ_LOG_INFO("reloading certificates, the password file and the ACL file");
  absl::Status result;
  auto note = [&result](absl::Status s, std::string_view keeping) {
    if (s.ok()) return;
    SIMQ_LOG_ERROR("reload: {} (keeping the previous {})", s.message(), keeping);
    result.Update(s);
  };
  for (auto& l : listeners_) note(l->Reload(), "certificates");
  if (authenticator_) note(authenticator_->Reload(), "users");
  if (authorizer_) note(authorizer_->Reload(), "ACL");
  return result;
}

std::vector<uint16_t> Server::ports() const {
  std::vector<uint16_t> ports;
  for (const auto& l : listeners_) ports.push_back(l->port());
  return ports;
}

std::string Usage() {
  return "usage: broker [--config PATH] [--listen URL]... [--data-dir PATH] [--log-level LEVEL]\n"
         "\n"
         "  --config PATH      configuration file (default: $SI_CFG_PATH, else "
         "config/config.toml)\n"
         "  --listen URL       listener, e.g. tcp://0.0.0.0:1883; repeatable; replaces the file's\n"
         "  --data-dir PATH    data directory\n"
         "  --log-level LEVEL  trace, debug, info, warn, error or off\n"
         "  --version          print the version and exit\n";
}

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) return absl::InvalidArgumentError(fmt::format("{} needs a value", arg));
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "--config" || arg == "--listen" || arg == "--data-dir" ||
               arg == "--log-level") {
      absl::StatusOr<std::string> v = value();
      if (!v.ok()) return v.status();
      if (arg == "--config") cl.config_path = *v;
      if (arg == "--listen") cl.listen.push_back(*v);
      if (arg == "--data-dir") cl.data_dir = *v;
      if (arg == "--log-level") cl.log_level = *v;
    } else {
      return absl::InvalidArgumentError(fmt::format("unknown argument \"{}\"\n{}", arg, Usage()));
    }
  }
  return cl;
}

absl::StatusOr<config::Config> LoadConfig(const CommandLine& cl) {
  absl::StatusOr<config::Config> config =
      config::LoadConfigFile(config::ResolveConfigPath(cl.config_path));
  if (!config.ok()) return config.status();
  if (!cl.listen.empty()) {
    config->listeners.clear();
    for (const std::string& url : cl.listen) {
      absl::StatusOr<config::ListenerConfig> listener = config::ParseListenUrl(url);
      if (!listener.ok()) {
        return absl::InvalidArgumentError(fmt::format("--listen: {}", listener.status().message()));
      }
      // As in the file: anonymous unless there is a password file; names unique.
      listener->allow_anonymous = config->auth.password_file.empty();
      for (const config::ListenerConfig& other : config->listeners) {
        if (other.name == listener->name) {
          listener->name += fmt::format("#{}", config->listeners.size());
        }
      }
      config->listeners.push_back(*listener);
    }
  }
  if (cl.data_dir) {
    // Relative to where the command was run (under `bazel run`, the user's directory).
    std::filesystem::path dir(*cl.data_dir);
    if (dir.is_relative()) {
      const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
      dir = (cwd ? std::filesystem::path(cwd) : std::filesystem::current_path()) / dir;
    }
    config->data_dir = dir.string();
  }
  if (cl.log_level) {
    absl::StatusOr<log::Level> level = log::ParseLevel(*cl.log_level);
    if (!level.ok())
      return absl::InvalidArgumentError(fmt::format("--log-level: {}", level.status().message()));
    config->log.level = std::string(log::LevelName(*level));
  }
  return config;
}

}  // namespace simq::server
