#include "conf/base64.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <iterator>

namespace svcproxy::conf {
namespace {

// Each byte's 6-bit value; -1 for a byte that is not in the alphabet ('=' included).
constexpr auto kSextets = [] {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 26; ++i) {
    table['A' + i] = static_cast<std::int8_t>(i);
    table['a' + i] = static_cast<std::int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i)
    table['0' + i] = static_cast<std::int8_t>(52 + i);
  table['+'] = 62;
  table['/'] = 63;
  return table;
}();

int sextet(char c) {
  return kSextets[static_cast<unsigned char>(c)];
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

int count_padding(std::string_view text) {
  int padding = 0;
  while (padding < 2 && text.size() > static_cast<std::size_t>(padding) &&
         text[text.size() - 1 - padding] == '=')
    ++padding;
  return padding;
}

}  // namespace

// Every value a node lists from etcd passes through here (60,000 of them at the scale
// figures): whitespace is copied out only when there is some, the output is sized once,
// and groups decode through a table.
std::optional<std::string> decode_base64(std::string_view text) {
  std::string compact;
  if (std::any_of(text.begin(), text.end(), is_space)) {
    compact.reserve(text.size());
    std::copy_if(text.begin(), text.end(), std::back_inserter(compact),
                 [](char c) { return !is_space(c); });
    text = compact;
  }
  if (text.size() % 4 != 0) return std::nullopt;
  const int padding = count_padding(text);
  std::string decoded(text.size() / 4 * 3, '\0');
  std::size_t out = 0;
  for (std::size_t at = 0; at < text.size(); at += 4) {
    const int pad = at + 4 == text.size() ? padding : 0;
    std::uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) {
      const int value = i < 4 - pad ? sextet(text[at + i]) : 0;
      if (value < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(value);
    }
    decoded[out++] = static_cast<char>((bits >> 16) & 0xff);
    if (pad < 2) decoded[out++] = static_cast<char>((bits >> 8) & 0xff);
    if (pad < 1) decoded[out++] = static_cast<char>(bits & 0xff);
  }
  decoded.resize(out);
  return decoded;
}

std::string encode_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t at = 0; at < bytes.size(); at += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - at);
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < 3; ++i)
      bits = (bits << 8) | (i < n ? static_cast<unsigned char>(bytes[at + i]) : 0u);
    for (std::size_t i = 0; i < 4; ++i)
      encoded += i <= n ? kAlphabet[(bits >> (18 - 6 * i)) & 0x3f] : '=';
  }
  return encoded;
}

}  // namespace svcproxy::conf
