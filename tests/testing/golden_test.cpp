// asp::testing::compare_with_golden: byte for byte, and a readable first difference.
#include <asp/testing/golden.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Golden : ::testing::Test {
  std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("asp_golden_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt");
  void write(const std::string& text) { std::ofstream(file, std::ios::binary) << text; }
  ~Golden() override { std::filesystem::remove(file); }
};

TEST_F(Golden, EqualOutputMatches) {
  write("a\nb\n");
  EXPECT_EQ(asp::testing::compare_with_golden("a\nb\n", file), std::nullopt);
}

TEST_F(Golden, TheFirstDifferingLineIsNamed) {
  write("a\nb\nc\n");
  EXPECT_EQ(asp::testing::compare_with_golden("a\nB\nc\n", file),
            file.string() + ":2: expected 'b', got 'B'");
}

TEST_F(Golden, MissingAndExtraLinesAreNamed) {
  write("a\nb\n");
  EXPECT_EQ(asp::testing::compare_with_golden("a\n", file),
            file.string() + ":2: expected 'b', got '<end of output>'");
  EXPECT_EQ(asp::testing::compare_with_golden("a\nb\nc\n", file),
            file.string() + ":3: expected '<end of file>', got 'c'");
}

TEST_F(Golden, AMissingFileIsReported) {
  EXPECT_EQ(asp::testing::compare_with_golden("x", file),
            "cannot read the golden file " + file.string());
}

}  // namespace
