// Runs a coroutine to completion on a private io_context, for tests.
//
//   TEST(ClientTest, Publishes) {
//     RunCoroutine([&](asio::any_io_executor ex) -> asio::awaitable<void> {
//       auto client = Client::Create(ex);
//       ...
//       co_return;
//     });
//   }
//
// Fails the test (and stops) if the coroutine runs longer than `timeout` or throws.
#pragma once

#include <chrono>
#include <exception>
#include <functional>

#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "gtest/gtest.h"

namespace simq::testing {

inline void RunCoroutine(
    std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)> body,
    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  boost::asio::io_context io;
  bool done = false;
  boost::asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "coroutine threw: " << ex.what();
      }
    }
    io.stop();
  });
  io.run_for(timeout);
  if (!done) ADD_FAILURE() << "coroutine did not finish within " << timeout.count() << " ms";
}

}  // namespace simq::testing
