// Logging for simq: levelled, thread-safe, on spdlog (fmt-style "{}" formatting).
//
//   simq::log::Init(simq::log::Level::kInfo);
//   SIMQ_LOG_INFO("listening on {}:{}", address, port);
//
// Logging a message below the current level costs one integer comparison; the arguments are
// not formatted.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "spdlog/spdlog.h"

#include "broker/base/format.h"

namespace simq::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off".
absl::StatusOr<Level> ParseLevel(std::string_view name);
std::string_view LevelName(Level level);

// Configures the process-wide logger: stderr, timestamped, thread id. Safe to call again to
// change the level.
void Init(Level level);
void SetLevel(Level level);
Level GetLevel();

}  // namespace simq::log

#define SIMQ_LOG_TRACE(...) \
  SPDLOG_LOGGER_CALL(::spdlog::default_logger_raw(), ::spdlog::level::trace, __VA_ARGS__)
#define SIMQ_LOG_DEBUG(...) \
  SPDLOG_LOGGER_CALL(::spdlog::default_logger_raw(), ::spdlog::level::debug, __VA_ARGS__)
#define SIMQ_LOG_INFO(...) \
  SPDLOG_LOGGER_CALL(::spdlog::default_logger_raw(), ::spdlog::level::info, __VA_ARGS__)
#define SIMQ_LOG_WARN(...) \
  SPDLOG_LOGGER_CALL(::spdlog::default_logger_raw(), ::spdlog::level::warn, __VA_ARGS__)
#define SIMQ_LOG_ERROR(...) \
  SPDLOG_LOGGER_CALL(::spdlog::default_logger_raw(), ::spdlog::level::err, __VA_ARGS__)
