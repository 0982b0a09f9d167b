#include <gtest/gtest.h>

#include "sim/results/json_string.hpp"

namespace hgca {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("plain text / slash"), "\"plain text / slash\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(json_string(std::string("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_string("\xce\xbcs \xe2\x80\x94 \xf0\x9f\x98\x80"), "\"\xce\xbcs \xe2\x80\x94 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(json_string("a\xff" "b"), "\"a\\ufffdb\"");                  // never valid
  EXPECT_EQ(json_string("\xc3"), "\"\\ufffd\"");                        // truncated sequence
  EXPECT_EQ(json_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(json_string("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");  // overlong, 3 bytes
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // UTF-16 surrogate
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
  EXPECT_EQ(json_string("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF itself is fine
}

}  // namespace
}  // namespace hgca
