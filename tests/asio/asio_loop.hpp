#pragma once

// What the asp::asio tests share: a loop on a manual clock a day after t0 that waits inside an
// io_context, so Asio handlers run on the loop's thread while it waits.

#include <asp/asio/backend.hpp>
#include <asp/asp.hpp>

#include <boost/asio/io_context.hpp>

#include "test_support.hpp"

namespace asp::testing {

struct asio_loop {
  boost::asio::io_context ioc;
  asp::asio::io_context_backend backend{ioc};
  asp::manual_clock clock{t0 + std::chrono::hours(24)};
  asp::loop loop{clock, backend};
};

}  // namespace asp::testing
