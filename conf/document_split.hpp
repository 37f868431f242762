// Cutting a multi-document YAML stream at its "---" lines, without parsing it: the loader
// parses each document on its own, so a 10,000-Service file never becomes one huge node
// graph, and a syntax error in one document does not hide the documents after it.
#pragma once

#include <string_view>
#include <vector>

namespace svcproxy::conf {

// One document of a stream: a view into the stream's text, and where it starts.
struct DocumentText {
  std::string_view text;
  int first_line = 0;  // 0-based line of `text` in the file
};

// Whether `line` (without its '\n') is a document marker: "---" alone or followed by a
// blank, as YAML has it ("---x" and "----" are content).
bool starts_document(std::string_view line);

// The documents of `text` in order, together covering all of it: each marker line begins
// the next document (a marker on the very first line cuts nothing). Always at least one
// document, possibly empty.
std::vector<DocumentText> split_documents(std::string_view text);

}  // namespace svcproxy::conf
