#include "server/response_head.hpp"

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstring>

namespace svcproxy::server {
namespace http = boost::beast::http;

namespace {
// Typical heads fit without growing: nginx sends 5-15 fields in 200-500 bytes.
constexpr std::size_t kTextReserve = 1024;
constexpr std::size_t kEntriesReserve = 24;
}  // namespace

ResponseHeadParser::ResponseHeadParser(FieldArena& arena)
    : text_(ArenaAllocator<char>(&arena)), entries_(ArenaAllocator<Entry>(&arena)) {}

std::size_t ResponseHeadParser::count(http::field name) const {
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [name](const Entry& entry) { return entry.name == name; }));
}

ResponseField ResponseHeadParser::field_at(std::size_t index) const {
  const Entry& entry = entries_[index];
  return {entry.name,
          {text_.data() + entry.name_at, entry.name_size},
          {text_.data() + entry.value_at, entry.value_size}};
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
  const auto name_at = static_cast<std::uint32_t>(text_.size());
  text_.append(name_string);
  const auto value_at = static_cast<std::uint32_t>(text_.size());
  text_.append(value);
  entries_.push_back({name, name_at, static_cast<std::uint32_t>(name_string.size()), value_at,
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
