// asp::data::mapped_file: a file's bytes in memory, and clear errors when it cannot be.
#include <asp/data/mapped_file.hpp>

#include <asp/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "data/temp_file.hpp"

namespace {

using asp::testing::temp_dir;

std::string error_of(const std::string& path) {
  try {
    asp::data::mapped_file f(path);
  } catch (const asp::input_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(MappedFile, HoldsTheBytesAndMovesThem) {
  temp_dir dir;
  const std::string path = dir.write("f", std::string("a\0b", 3));
  asp::data::mapped_file f(path);
  EXPECT_EQ(f.bytes(), std::string_view("a\0b", 3));
  EXPECT_EQ(f.path(), path);
  asp::data::mapped_file g(std::move(f));
  EXPECT_EQ(g.bytes(), std::string_view("a\0b", 3));
  EXPECT_TRUE(f.bytes().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  asp::data::mapped_file h(dir.write("h", "xyz"));
  h = std::move(g);
  EXPECT_EQ(h.bytes(), std::string_view("a\0b", 3));
}

TEST(MappedFile, AnEmptyFileHasNoBytes) {
  temp_dir dir;
  asp::data::mapped_file f(dir.write("empty", ""));
  EXPECT_TRUE(f.bytes().empty());
}

TEST(MappedFile, WhatCannotBeMappedIsNamed) {
  temp_dir dir;
  EXPECT_EQ(error_of(dir.path("missing")),
            "cannot open " + dir.path("missing") + ": No such file or directory");
  EXPECT_EQ(error_of(dir.path("")), "cannot open " + dir.path("") + ": it is a directory");
}

}  // namespace
