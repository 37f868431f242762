#include "conf/document_split.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

namespace svcproxy::conf {
namespace {

std::vector<std::string> texts(const std::vector<DocumentText>& documents) {
  std::vector<std::string> all;
  for (const auto& document : documents)
    all.emplace_back(document.text);
  return all;
}

std::vector<int> first_lines(const std::vector<DocumentText>& documents) {
  std::vector<int> lines;
  for (const auto& document : documents)
    lines.push_back(document.first_line);
  return lines;
}

// The same cut, one line at a time: what the eight-bytes-at-a-time search must agree with.
std::vector<DocumentText> split_line_by_line(std::string_view text) {
  std::vector<DocumentText> documents{{text.substr(0, 0), 0}};
  std::size_t start = 0;
  int line = 0;
  for (std::size_t pos = text.find('\n'); pos != std::string_view::npos;
       pos = text.find('\n', pos + 1)) {
    ++line;
    const std::size_t next = pos + 1;
    const std::size_t end = std::min(text.find('\n', next), text.size());
    if (!starts_document(text.substr(next, end - next))) continue;
    documents.back().text = text.substr(start, next - start);
    documents.push_back({{}, line});
    start = next;
  }
  documents.back().text = text.substr(start);
  return documents;
}

}  // namespace

TEST_CASE("a document marker is '---' alone or followed by a blank") {
  CHECK(starts_document("---"));
  CHECK(starts_document("--- # a comment"));
  CHECK(starts_document("---\t"));
  CHECK(starts_document("---\r"));
  CHECK_FALSE(starts_document("----"));
  CHECK_FALSE(starts_document("---x"));
  CHECK_FALSE(starts_document("--"));
  CHECK_FALSE(starts_document(" ---"));
}

TEST_CASE("a stream is cut before each marker line; each document knows its first line") {
  const std::string text = "a: 1\n---\nb: 2\n--- # c\nc: 3\n";
  const auto documents = split_documents(text);
  CHECK(texts(documents) == std::vector<std::string>{"a: 1\n", "---\nb: 2\n", "--- # c\nc: 3\n"});
  CHECK(first_lines(documents) == std::vector<int>{0, 1, 3});
}

TEST_CASE("a marker on the first line cuts nothing, and an empty stream is one empty document") {
  CHECK(texts(split_documents("---\na: 1\n")) == std::vector<std::string>{"---\na: 1\n"});
  const auto empty = split_documents("");
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].text.empty());
  CHECK(empty[0].first_line == 0);
}

TEST_CASE("'---' inside content, and CRLF markers, are cut as YAML says") {
  CHECK(split_documents("note: |\n  x\n---x\n----\n  ---\n").size() == 1);
  const auto crlf = split_documents("a: 1\r\n---\r\nb: 2\r\n");
  CHECK(texts(crlf) == std::vector<std::string>{"a: 1\r\n", "---\r\nb: 2\r\n"});
  CHECK(first_lines(crlf) == std::vector<int>{0, 1});
  // A marker as the last line, with no newline after it, still starts a (empty) document.
  CHECK(texts(split_documents("a: 1\n---")) == std::vector<std::string>{"a: 1\n", "---"});
}

TEST_CASE("newlines are found wherever they fall in the eight-byte words") {
  // Lines of every length from 0 to 20, a marker after each, so markers and newlines land
  // at every offset of a word and at the tail that is searched byte by byte.
  std::string text;
  for (int length = 0; length <= 20; ++length) {
    text += std::string(static_cast<std::size_t>(length), 'x') + "\n";
    text += length % 3 == 0 ? "--- \n" : "---\n";
  }
  for (std::size_t size = 0; size <= text.size(); ++size) {
    CAPTURE(size);
    const std::string_view prefix(text.data(), size);
    const auto fast = split_documents(prefix);
    const auto slow = split_line_by_line(prefix);
    CHECK(texts(fast) == texts(slow));
    CHECK(first_lines(fast) == first_lines(slow));
  }
}

}  // namespace svcproxy::conf
