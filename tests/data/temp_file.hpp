#pragma once

// What the asp::data tests share: files written in a fresh directory, removed afterwards, and
// the message of the asp::input_error a piece of code throws.

#include <asp/error.hpp>

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace asp::testing {

/// The message of the asp::input_error that `f` throws (a test failure when it throws none).
inline std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const asp::input_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no asp::input_error";
  return "";
}

}  // namespace asp::testing
