#include "server/http_message/response_head.hpp"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstring>

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {
// Typical heads fit without growing: nginx sends 5-15 fields in 200-500 bytes.
constexpr std::size_t kTextReserve = 1024;
constexpr std::size_t kEntriesReserve = 24;
// Blanks a value may start after the colon and still be taken with its line as is.
constexpr std::uintptr_t kMaxBlanks = 64;

// The line a field came on, from its name through the CRLF, when the value is on that
// line: only a colon and blanks between name and value (a folded value lives in Beast's
// own buffer, or starts on a later line). Empty otherwise.
std::string_view wire_line(std::string_view name, std::string_view value) {
  const char* const colon = name.data() + name.size();
  const auto gap = reinterpret_cast<std::uintptr_t>(value.data()) -
                   reinterpret_cast<std::uintptr_t>(colon);  // huge when value is elsewhere
  if (gap == 0 || gap > kMaxBlanks || *colon != ':') return {};
  for (const char* p = colon + 1; p != value.data(); ++p)
    if (*p != ' ' && *p != '\t') return {};
  const char* end = value.data() + value.size();
  while (*end == ' ' || *end == '\t')  // trailing blanks; Beast has seen the CRLF after them
    ++end;
  if (end[0] != '\r' || end[1] != '\n') return {};
  return {name.data(), static_cast<std::size_t>(end + 2 - name.data())};
}

}  // namespace

ResponseHeadParser::ResponseHeadParser(FieldArena& arena)
    : text_(ArenaAllocator<char>(&arena)), entries_(ArenaAllocator<Entry>(&arena)) {}

std::size_t ResponseHeadParser::count(http::field name) const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [name](const Entry& entry) { return entry.name == name; }));
}

ResponseField ResponseHeadParser::field_at(std::size_t index) const {
  const Entry& entry = entries_[index];
  const char* const line = text_.data() + entry.line_at;
  return {entry.name,
          {line, entry.name_size},
          {line + entry.value_offset, entry.value_size},
          {line, entry.line_size}};
}

void ResponseHeadParser::on_request_impl(http::verb, boost::beast::string_view,
                                         boost::beast::string_view, int,
                                         boost::system::error_code& ec) {
  ec = http::error::bad_method;  // never called: this parser reads responses
}

void ResponseHeadParser::on_response_impl(int code, boost::beast::string_view reason, int version,
                                          boost::system::error_code&) {
  status_ = static_cast<unsigned>(code);
  version_ = static_cast<unsigned>(version);
  text_.reserve(std::max(kTextReserve, reason.size()));
  entries_.reserve(kEntriesReserve);
  text_.assign(reason);
  reason_size_ = static_cast<std::uint32_t>(reason.size());
}

void ResponseHeadParser::on_field_impl(http::field name, boost::beast::string_view name_string,
                                       boost::beast::string_view value,
                                       boost::system::error_code&) {
  // The views point into the caller's buffer or into Beast's unfolding buffer, both
  // reused: copy. Offsets, not pointers, since the text may grow.
  const auto line_at = static_cast<std::uint32_t>(text_.size());
  std::uint32_t value_offset;
  if (const std::string_view line = wire_line(name_string, value); !line.empty()) {
    value_offset = static_cast<std::uint32_t>(value.data() - line.data());
    text_.append(line);
  } else {
    value_offset = static_cast<std::uint32_t>(name_string.size() + 2);
    text_.append(name_string);
    text_.append(": ");
    text_.append(value);
    text_.append("\r\n");
  }
  entries_.push_back({name, line_at, static_cast<std::uint32_t>(text_.size() - line_at),
                      static_cast<std::uint32_t>(name_string.size()), value_offset,
                      static_cast<std::uint32_t>(value.size())});
}

void ResponseHeadParser::on_header_impl(boost::system::error_code& ec) {
  ec = {};
}

void ResponseHeadParser::on_body_init_impl(const boost::optional<std::uint64_t>&,
                                           boost::system::error_code& ec) {
  ec = {};
}

// As buffer_body's reader: copy into the target, or ask for one.
std::size_t ResponseHeadParser::take_body(std::string_view body, boost::system::error_code& ec) {
  if (!body_.data) {
    ec = http::error::need_buffer;
    return 0;
  }
  const std::size_t taken = std::min(body.size(), body_.size);
  std::memcpy(body_.data, body.data(), taken);
  body_.data = static_cast<char*>(body_.data) + taken;
  body_.size -= taken;
  if (taken == body.size())
    ec = {};
  else
    ec = http::error::need_buffer;
  return taken;
}

std::size_t ResponseHeadParser::on_body_impl(boost::beast::string_view body,
                                             boost::system::error_code& ec) {
  return take_body(body, ec);
}

void ResponseHeadParser::on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                                              boost::system::error_code& ec) {
  ec = {};
}

std::size_t ResponseHeadParser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                                   boost::system::error_code& ec) {
  return take_body(body, ec);
}

void ResponseHeadParser::on_finish_impl(boost::system::error_code& ec) {
  ec = {};
}

}  // namespace svcproxy::server
