#include "dns/dns_message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

namespace svcproxy::dns {
namespace {

using Bytes = std::span<const std::uint8_t>;

struct Reader {
  Bytes data;
  std::size_t at = 0;

  bool has(std::size_t n) const { return at <= data.size() && data.size() - at >= n; }
  std::uint16_t u16() {
    const auto value = static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
    at += 2;
    return value;
  }
  std::uint32_t u32() {
    const std::uint32_t high = u16();
    return high << 16 | u16();
  }
};

void append_label_text(std::string& out, Bytes label) {
  if (!out.empty()) out.push_back('.');
  for (const std::uint8_t byte : label) {
    if (byte == '.' || byte == '\\') out.push_back('\\');
    out.push_back(static_cast<char>(byte));
  }
}

// A name at reader.at (RFC 1035 4.1.4). A pointer must point before the labels it follows
// began, so every jump goes strictly backwards and a loop is impossible; labels of 64+
// octets, the reserved label types and names over 255 octets are malformed.
bool read_name(Reader& reader, std::string& text, std::vector<std::uint8_t>* wire) {
  std::size_t at = reader.at;
  std::size_t run_start = at;  // where the labels being read began
  std::size_t length = 1;      // the root's zero octet
  bool jumped = false;
  text.clear();
  if (wire) wire->clear();
  while (true) {
    if (at >= reader.data.size()) return false;
    const std::uint8_t octet = reader.data[at];
    if (octet == 0) {
      if (!jumped) reader.at = at + 1;
      if (wire) wire->push_back(0);
      return true;
    }
    if ((octet & 0xC0) == 0xC0) {
      if (at + 1 >= reader.data.size()) return false;
      const std::size_t target = static_cast<std::size_t>(octet & 0x3F) << 8 | reader.data[at + 1];
      if (target >= run_start) return false;
      if (!jumped) reader.at = at + 2;
      jumped = true;
      at = run_start = target;
      continue;
    }
    if ((octet & 0xC0) != 0) return false;  // 01 and 10: extended label types (RFC 6891)
    length += octet + 1u;
    if (length > kMaxNameLength || at + 1 + octet > reader.data.size()) return false;
    const Bytes label = reader.data.subspan(at + 1, octet);
    append_label_text(text, label);
    if (wire) {
      wire->push_back(octet);
      wire->insert(wire->end(), label.begin(), label.end());
    }
    at += 1 + octet;
  }
}

// Skips one resource record of the answer or authority section.
bool skip_record(Reader& reader) {
  std::string ignored;
  if (!read_name(reader, ignored, nullptr) || !reader.has(10)) return false;
  reader.at += 8;
  const std::uint16_t length = reader.u16();
  if (!reader.has(length)) return false;
  reader.at += length;
  return true;
}

// One record of the additional section; an OPT fills `edns` (a second one is malformed,
// RFC 6891 6.1.1).
bool read_additional(Reader& reader, ParsedQuery& query) {
  std::string name;
  if (!read_name(reader, name, nullptr) || !reader.has(10)) return false;
  const std::uint16_t type = reader.u16();
  const std::uint16_t klass = reader.u16();
  const std::uint32_t ttl = reader.u32();
  const std::uint16_t length = reader.u16();
  if (!reader.has(length)) return false;
  reader.at += length;
  if (type != static_cast<std::uint16_t>(RecordType::OPT)) return true;
  if (query.edns || !name.empty()) return false;
  Edns edns;
  edns.udp_size = std::max<std::uint16_t>(klass, kClassicUdpSize);
  edns.version = static_cast<std::uint8_t>(ttl >> 16);
  edns.dnssec_ok = (ttl & 0x8000) != 0;
  query.edns = edns;
  return true;
}

}  // namespace

ParsedQuery parse_query(Bytes message) {
  ParsedQuery query;
  Reader reader{message};
  if (!reader.has(kHeaderSize)) return query;  // Drop
  query.id = reader.u16();
  const std::uint16_t flags = reader.u16();
  if (flags & 0x8000) return query;  // a response: answering it could start a loop
  query.opcode = static_cast<std::uint8_t>(flags >> 11 & 0x0F);
  query.recursion_desired = (flags & 0x0100) != 0;
  query.checking_disabled = (flags & 0x0010) != 0;
  const std::uint16_t questions = reader.u16();
  const std::uint16_t answers = reader.u16();
  const std::uint16_t authority = reader.u16();
  const std::uint16_t additional = reader.u16();
  query.status = ParsedQuery::Status::FormErr;
  if (query.opcode != 0) {
    query.status = ParsedQuery::Status::NotImp;
    return query;
  }
  if (questions != 1) return query;
  Question question;
  if (!read_name(reader, question.name, &question.wire_name) || !reader.has(4)) return query;
  question.type = reader.u16();
  question.klass = reader.u16();
  query.question = std::move(question);
  for (int i = 0; i < answers + authority; ++i)
    if (!skip_record(reader)) return query;
  for (int i = 0; i < additional; ++i)
    if (!read_additional(reader, query)) return query;
  query.status = query.edns && query.edns->version > 0 ? ParsedQuery::Status::BadVers
                                                       : ParsedQuery::Status::Ok;
  return query;
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::size_t udp_response_limit(const ParsedQuery& query, std::uint16_t our_udp_size) {
  if (!query.edns) return kClassicUdpSize;
  return std::max<std::size_t>(kClassicUdpSize, std::min(query.edns->udp_size, our_udp_size));
}

// ---- records ----

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  put16(out, static_cast<std::uint16_t>(value >> 16));
  put16(out, static_cast<std::uint16_t>(value));
}

ResourceRecord::Part raw(std::vector<std::uint8_t> bytes) {
  return {std::move(bytes), {}, false};
}
ResourceRecord::Part name_part(std::string name) {
  return {{}, std::move(name), true};
}

std::optional<ResourceRecord> address_record(std::string name, RecordType type, std::uint32_t ttl,
                                             const std::string& ip) {
  std::vector<std::uint8_t> bytes(type == RecordType::A ? 4 : 16);
  if (inet_pton(type == RecordType::A ? AF_INET : AF_INET6, ip.c_str(), bytes.data()) != 1)
    return std::nullopt;
  return ResourceRecord{std::move(name), type, ttl, {raw(std::move(bytes))}};
}

}  // namespace

std::optional<ResourceRecord> a_record(std::string name, std::uint32_t ttl, const std::string& ip) {
  return address_record(std::move(name), RecordType::A, ttl, ip);
}

std::optional<ResourceRecord> aaaa_record(std::string name, std::uint32_t ttl,
                                          const std::string& ip) {
  return address_record(std::move(name), RecordType::AAAA, ttl, ip);
}

ResourceRecord name_record(std::string name, RecordType type, std::uint32_t ttl,
                           std::string target) {
  return {std::move(name), type, ttl, {name_part(std::move(target))}};
}

ResourceRecord srv_record(std::string name, std::uint32_t ttl, std::uint16_t priority,
                          std::uint16_t weight, std::uint16_t port, std::string target) {
  std::vector<std::uint8_t> fixed;
  put16(fixed, priority);
  put16(fixed, weight);
  put16(fixed, port);
  // RFC 2782: the target is not compressed.
  ResourceRecord record{std::move(name), RecordType::SRV, ttl, {raw(std::move(fixed))}};
  std::vector<std::uint8_t> wire;
  std::string_view rest = target;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    const auto label = rest.substr(0, dot);
    wire.push_back(static_cast<std::uint8_t>(std::min(label.size(), kMaxLabelLength)));
    wire.insert(wire.end(), label.begin(), label.begin() + wire.back());
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  wire.push_back(0);
  record.rdata.push_back(raw(std::move(wire)));
  return record;
}

ResourceRecord txt_record(std::string name, std::uint32_t ttl, const std::string& text) {
  std::vector<std::uint8_t> bytes;
  bytes.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(text.size(), 255)));
  bytes.insert(bytes.end(), text.begin(), text.begin() + bytes.front());
  return {std::move(name), RecordType::TXT, ttl, {raw(std::move(bytes))}};
}

// As CoreDNS writes its zone's SOA: ns.dns.<zone>, hostmaster.<zone>, refresh 2h, retry
// 30m, expire 1d; the minimum (the negative-answer TTL, RFC 2308) is the records' TTL.
ResourceRecord soa_record(std::string zone, std::uint32_t ttl, std::uint32_t serial,
                          std::uint32_t minimum) {
  std::vector<std::uint8_t> numbers;
  for (const std::uint32_t value : {serial, 7200u, 1800u, 86400u, minimum})
    put32(numbers, value);
  std::string mname = "ns.dns." + zone;
  std::string rname = "hostmaster." + zone;
  return {std::move(zone),
          RecordType::SOA,
          ttl,
          {name_part(std::move(mname)), name_part(std::move(rname)), raw(std::move(numbers))}};
}

// ---- encoding ----

namespace {

// Writes names with compression (RFC 1035 4.1.4) against the names already written; can
// roll back to a mark when a record does not fit.
class Writer {
 public:
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

  std::vector<std::uint8_t>& out() { return out_; }
  std::size_t size() const { return out_.size(); }

  void name(std::string_view dotted) {
    while (!dotted.empty()) {
      const std::string key = lower_case(dotted);
      const auto known = std::find_if(suffixes_.begin(), suffixes_.end(),
                                      [&](const auto& entry) { return entry.first == key; });
      if (known != suffixes_.end()) {
        put16(out_, static_cast<std::uint16_t>(0xC000 | known->second));
        return;
      }
      if (out_.size() < 0x3FFF) suffixes_.emplace_back(key, out_.size());
      const auto dot = dotted.find('.');
      const auto label = dotted.substr(0, std::min(dot, dotted.size()));
      const auto length = std::min(label.size(), kMaxLabelLength);
      out_.push_back(static_cast<std::uint8_t>(length));
      out_.insert(out_.end(), label.begin(), label.begin() + static_cast<std::ptrdiff_t>(length));
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    out_.push_back(0);
  }

  void record(const ResourceRecord& record) {
    name(record.name);
    put16(out_, static_cast<std::uint16_t>(record.type));
    put16(out_, kClassIn);
    put32(out_, record.ttl);
    const std::size_t length_at = out_.size();
    put16(out_, 0);
    for (const auto& part : record.rdata) {
      if (part.is_name)
        name(part.name);
      else
        out_.insert(out_.end(), part.bytes.begin(), part.bytes.end());
    }
    const std::size_t length = out_.size() - length_at - 2;
    out_[length_at] = static_cast<std::uint8_t>(length >> 8);
    out_[length_at + 1] = static_cast<std::uint8_t>(length);
  }

  void rollback(std::size_t mark) {
    out_.resize(mark);
    std::erase_if(suffixes_, [&](const auto& entry) { return entry.second >= mark; });
  }

 private:
  std::vector<std::uint8_t> out_;
  std::vector<std::pair<std::string, std::size_t>> suffixes_;
};

constexpr std::size_t kOptSize = 11;

// Writes `records` while they fit below `limit`; false when one did not.
bool write_section(Writer& writer, const std::vector<ResourceRecord>& records, std::size_t limit,
                   std::uint16_t& count) {
  for (const auto& record : records) {
    const std::size_t mark = writer.size();
    writer.record(record);
    if (writer.size() > limit) {
      writer.rollback(mark);
      return false;
    }
    ++count;
  }
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_response(const ParsedQuery& query, const Response& response,
                                          std::size_t max_size, std::uint16_t our_udp_size) {
  Writer writer(std::min<std::size_t>(max_size, 4096));
  auto& out = writer.out();
  put16(out, query.id);
  put16(out, 0);  // flags, below
  put16(out, query.question ? 1 : 0);
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  if (query.question) {
    const std::string& name = query.question->name;
    // Registered for compression only when the dotted text is the name (no escapes).
    if (name.find('\\') == std::string::npos) {
      writer.name(name);
    } else {
      out.insert(out.end(), query.question->wire_name.begin(), query.question->wire_name.end());
    }
    put16(out, query.question->type);
    put16(out, query.question->klass);
  }
  // max_size is at least 512, more than a header, a question and an OPT take.
  const std::size_t limit = max_size - (query.edns ? kOptSize : 0);
  std::uint16_t counts[3] = {0, 0, 0};
  bool truncated = !write_section(writer, response.answers, limit, counts[0]);
  if (!truncated) truncated = !write_section(writer, response.authority, limit, counts[1]);
  if (!truncated) write_section(writer, response.additional, limit, counts[2]);
  if (query.edns) {
    out.push_back(0);
    put16(out, static_cast<std::uint16_t>(RecordType::OPT));
    put16(out, our_udp_size);
    put32(out, static_cast<std::uint32_t>(response.extended_rcode >> 4) << 24 |
                   (query.edns->dnssec_ok ? 0x8000u : 0u));
    put16(out, 0);
    ++counts[2];
  }
  std::uint16_t flags = 0x8000 | static_cast<std::uint16_t>(query.opcode << 11);
  if (response.authoritative) flags |= 0x0400;
  if (truncated) flags |= 0x0200;
  if (query.recursion_desired) flags |= 0x0100;
  if (query.checking_disabled) flags |= 0x0010;
  flags |= static_cast<std::uint16_t>(
      (static_cast<unsigned>(response.rcode) | response.extended_rcode) & 0x0F);
  out[2] = static_cast<std::uint8_t>(flags >> 8);
  out[3] = static_cast<std::uint8_t>(flags);
  for (int i = 0; i < 3; ++i) {
    out[6 + 2 * i] = static_cast<std::uint8_t>(counts[i] >> 8);
    out[7 + 2 * i] = static_cast<std::uint8_t>(counts[i]);
  }
  return std::move(out);
}

}  // namespace svcproxy::dns
