// Status helpers for code that returns absl::Status / absl::StatusOr<T>.
//
// Debian's Abseil (20220623) ships no status macros, so these are ours:
//
//   absl::StatusOr<Config> Load(std::string_view path) {
//     SIMQ_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     SIMQ_RETURN_IF_ERROR(Validate(text));
//     return Parse(text);
//   }
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SIMQ_STATUS_CONCAT_INNER_(a, b) a##b
#define SIMQ_STATUS_CONCAT_(a, b) SIMQ_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define SIMQ_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status simq_status_ = (expr);        \
    if (!simq_status_.ok()) return simq_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the
// value into `lhs`, which may be a declaration (`auto x`) or an existing lvalue.
#define SIMQ_ASSIGN_OR_RETURN(lhs, rexpr) \
  SIMQ_ASSIGN_OR_RETURN_IMPL_(SIMQ_STATUS_CONCAT_(simq_statusor_, __LINE__), lhs, rexpr)

#define SIMQ_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)  \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

// The same for coroutines returning awaitable<absl::Status...>.
#define SIMQ_CO_RETURN_IF_ERROR(expr)               \
  do {                                              \
    ::absl::Status simq_status_ = (expr);           \
    if (!simq_status_.ok()) co_return simq_status_; \
  } while (false)

#define SIMQ_CO_ASSIGN_OR_RETURN(lhs, rexpr) \
  SIMQ_CO_ASSIGN_OR_RETURN_IMPL_(SIMQ_STATUS_CONCAT_(simq_statusor_, __LINE__), lhs, rexpr)

#define SIMQ_CO_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)  \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) co_return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
