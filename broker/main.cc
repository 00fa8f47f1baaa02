// simq broker: parses the command line, loads the configuration and runs a server until
// SIGINT or SIGTERM. Everything else lives in //broker/server.

#include <csignal>
#include <functional>
#include <iostream>

#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"

#include "broker/base/log.h"
#include "broker/base/version.h"
#include "broker/server/server.h"

int main(int argc, char** argv) {
  absl::StatusOr<simq::server::CommandLine> cl = simq::server::ParseCommandLine(argc, argv);
  if (!cl.ok()) {
    std::cerr << cl.status().message() << "\n";
    return 2;
  }
  if (cl->help) {
    std::cout << simq::server::Usage();
    return 0;
  }
  if (cl->version) {
    std::cout << "simq " << simq::kVersion << "\n";
    return 0;
  }
  // Configuration errors name file, line and key; nothing is opened before they are fixed.
  absl::StatusOr<simq::config::Config> config = simq::server::LoadConfig(*cl);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  simq::log::Init(*simq::log::ParseLevel(config->log.level));
  SIMQ_LOG_INFO("simq {} starting with {}", simq::kVersion,
                config->source.empty() ? "default configuration" : config->source);

  // Signals are handled on this thread; block them in the workers started below.
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::signal_set reload(io, SIGHUP);
  std::signal(SIGPIPE, SIG_IGN);

  simq::server::Server server(*config);
  if (absl::Status s = server.Start(); !s.ok()) {
    SIMQ_LOG_ERROR("{}", s.message());
    return 1;
  }
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    SIMQ_LOG_INFO("signal {}: shutting down", signal);
    reload.cancel();
  });
  std::function<void()> wait_reload = [&] {
    reload.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      server.Reload().IgnoreError();  // logged by Reload
      wait_reload();
    });
  };
  wait_reload();
  io.run();
  server.Stop();
  SIMQ_LOG_INFO("stopped");
  return 0;
}
