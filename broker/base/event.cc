#include "broker/base/event.h"

#include "boost/asio/experimental/awaitable_operators.hpp"

namespace simq::base {

boost::asio::awaitable<bool> Event::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer deadline_timer(timer_.get_executor(), deadline);
  auto kUse = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto result = co_await (timer_.async_wait(kUse) || deadline_timer.async_wait(kUse));
  co_return result.index() == 0;
}

}  // namespace simq::base
