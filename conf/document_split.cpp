#include "conf/document_split.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace svcproxy::conf {
namespace {

// Calls on_newline(position) for each '\n' in `text`, in order, finding them eight bytes
// at a time: a 13 MiB configuration has 750,000 lines, and stopping at each with memchr,
// or at every '-' when looking for "---", was 15-20 ms of a reload.
template <typename OnNewline>
void for_each_newline(std::string_view text, OnNewline&& on_newline) {
  std::size_t i = 0;
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
    for (; i + 8 <= text.size(); i += 8) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      const std::uint64_t x = word ^ (kOnes * '\n');  // newline bytes become zero
      // The high bit of each byte set exactly where x has a zero byte.
      for (std::uint64_t zero = ~(((x & kLow7) + kLow7) | x | kLow7); zero; zero &= zero - 1)
        on_newline(i + static_cast<std::size_t>(std::countr_zero(zero)) / 8);
    }
  }
  for (; i < text.size(); ++i)
    if (text[i] == '\n') on_newline(i);
}

}  // namespace

bool starts_document(std::string_view line) {
  return line.substr(0, 3) == "---" &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

std::vector<DocumentText> split_documents(std::string_view text) {
  std::vector<DocumentText> documents{{text.substr(0, 0), 0}};
  std::size_t start = 0;  // the first line never cuts: nothing is before it
  int line = 0;
  for_each_newline(text, [&](std::size_t newline) {
    ++line;
    const std::size_t pos = newline + 1;
    if (text.size() < pos + 3 || text.compare(pos, 3, "---") != 0) return;
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (!starts_document(text.substr(pos, end - pos)) || pos <= start) return;
    documents.back().text = text.substr(start, pos - start);
    documents.push_back({{}, line});
    start = pos;
  });
  documents.back().text = text.substr(start);
  return documents;
}

}  // namespace svcproxy::conf
