#include "conf/base64.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace svcproxy::conf {
namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string without_whitespace(std::string_view text) {
  std::string compact;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  return compact;
}

// Decodes one 4-character group; `padding` is how many trailing '=' it has (0-2).
bool decode_group(std::string_view group, int padding, std::string& out) {
  std::uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) {
    const int value = i < 4 - padding ? sextet(group[i]) : 0;
    if (value < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
  }
  out += static_cast<char>((bits >> 16) & 0xff);
  if (padding < 2) out += static_cast<char>((bits >> 8) & 0xff);
  if (padding < 1) out += static_cast<char>(bits & 0xff);
  return true;
}

int count_padding(std::string_view text) {
  int padding = 0;
  while (padding < 2 && text.size() > static_cast<std::size_t>(padding) &&
         text[text.size() - 1 - padding] == '=')
    ++padding;
  return padding;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  const std::string compact = without_whitespace(text);
  if (compact.size() % 4 != 0) return std::nullopt;
  const int padding = count_padding(compact);
  std::string decoded;
  for (std::size_t at = 0; at < compact.size(); at += 4) {
    const bool last = at + 4 == compact.size();
    if (!decode_group(std::string_view(compact).substr(at, 4), last ? padding : 0, decoded))
      return std::nullopt;
  }
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
