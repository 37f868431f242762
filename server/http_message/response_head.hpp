// A pod's response head as the proxy uses it: Beast's parser (status line, field syntax,
// framing, chunked decoding, limits) without Beast's field container.
//
// Why: the proxy reads each response field once, to copy it to the client, and looks up
// almost none; basic_fields builds a tree and a node per field for lookups it never gets.
// Storing and freeing those nodes was a fifth of the user-space instructions of a small
// keep-alive request (callgrind: insert, new_element, find, the rb-tree and delete_list).
//
// How: a basic_parser<false> whose field callback appends the name and value to one
// arena-backed text and records where they are; the framing (Content-Length, chunked,
// keep-alive, upgrade) stays Beast's own bookkeeping. Body bytes go where body() points,
// as with buffer_body.
// Thread affinity: none (one exchange of one connection).
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/field_arena.hpp"

namespace svcproxy::server {

// One field of a parsed head, with the accessors of Beast's field type, and its whole
// line ("Name: value\r\n") as the pod sent it (written out anew for a folded value).
class ResponseField {
 public:
  ResponseField(boost::beast::http::field name, std::string_view name_string,
                std::string_view value, std::string_view line)
      : name_(name), name_string_(name_string), value_(value), line_(line) {}
  boost::beast::http::field name() const { return name_; }
  std::string_view name_string() const { return name_string_; }
  std::string_view value() const { return value_; }
  std::string_view line() const { return line_; }

 private:
  boost::beast::http::field name_;
  std::string_view name_string_;
  std::string_view value_;
  std::string_view line_;
};

class ResponseHeadParser final : public boost::beast::http::basic_parser<false> {
  struct Entry {
    boost::beast::http::field name;
    std::uint32_t line_at, line_size;        // in text_
    std::uint32_t name_size;                 // the name starts the line
    std::uint32_t value_offset, value_size;  // from the line's start
  };
  using Text = std::basic_string<char, std::char_traits<char>, ArenaAllocator<char>>;
  using Entries = std::vector<Entry, ArenaAllocator<Entry>>;

 public:
  // Where the next body bytes go; `data` moves on and `size` shrinks as they arrive.
  struct BodyTarget {
    void* data = nullptr;
    std::size_t size = 0;
  };

  class const_iterator {
   public:
    using value_type = ResponseField;
    using difference_type = std::ptrdiff_t;
    const_iterator(const ResponseHeadParser& head, std::size_t index)
        : head_(&head), index_(index) {}
    ResponseField operator*() const { return head_->field_at(index_); }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const const_iterator& other) const { return index_ == other.index_; }

   private:
    const ResponseHeadParser* head_;
    std::size_t index_;
  };

  explicit ResponseHeadParser(FieldArena& arena);

  unsigned result_int() const { return status_; }
  boost::beast::http::status result() const { return boost::beast::http::int_to_status(status_); }
  std::string_view reason() const { return {text_.data(), reason_size_}; }
  unsigned version() const { return version_; }

  const_iterator begin() const { return {*this, 0}; }
  const_iterator end() const { return {*this, entries_.size()}; }
  std::size_t count(boost::beast::http::field name) const;

  BodyTarget& body() { return body_; }

 private:
  ResponseField field_at(std::size_t index) const;

  void on_request_impl(boost::beast::http::verb, boost::beast::string_view,
                       boost::beast::string_view, int, boost::system::error_code&) override;
  void on_response_impl(int code, boost::beast::string_view reason, int version,
                        boost::system::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                            boost::system::error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                 boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code& ec) override;

  std::size_t take_body(std::string_view body, boost::system::error_code& ec);

  // The reason phrase first, then each field's line, back to back.
  Text text_;
  Entries entries_;
  std::uint32_t reason_size_ = 0;
  unsigned status_ = 0;
  unsigned version_ = 0;
  BodyTarget body_;
};

}  // namespace svcproxy::server
