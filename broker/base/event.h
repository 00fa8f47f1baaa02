// A wake-up signal for coroutines on one executor: a condition variable without a mutex.
//
//   Event changed(executor);
//   while (queue.empty()) co_await changed.Wait();   // waiter
//   queue.push_back(x); changed.NotifyAll();         // producer, same executor
//
// Not thread-safe: waiters and notifiers run on the Event's executor. Waiters must re-check
// their condition after waking (a notification wakes everyone).
#pragma once

#include <chrono>

#include "boost/asio/any_io_executor.hpp"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"

namespace simq::base {

class Event {
 public:
  explicit Event(boost::asio::any_io_executor executor)
      : timer_(std::move(executor), boost::asio::steady_timer::time_point::max()) {}

  // Completes at the next NotifyAll (or when the Event is destroyed).
  boost::asio::awaitable<void> Wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  // Completes at the next NotifyAll or at `deadline`; true if notified.
  boost::asio::awaitable<bool> WaitUntil(std::chrono::steady_clock::time_point deadline);

  void NotifyAll() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace simq::base
