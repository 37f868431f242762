// The DNS wire format (RFC 1035 section 4, EDNS0 of RFC 6891) as far as an authoritative
// server for one zone needs it: a query parsed with strict bounds, a response encoded with
// name compression and truncated to the client's size. Pure, no I/O, no Boost: the fuzzer
// feeds parse_query() arbitrary bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace svcproxy::dns {

enum class RecordType : std::uint16_t {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  TXT = 16,
  AAAA = 28,
  SRV = 33,
  OPT = 41,
  ANY = 255,
};

enum class Rcode : std::uint8_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
};

constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxNameLength = 255;  // wire octets, length bytes and root included
constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kClassicUdpSize = 512;  // without EDNS0 (RFC 1035 4.2.1)

struct Question {
  // Dotted, no trailing dot, as the client wrote it ("" for the root); a '.' or '\\' inside
  // a label is escaped with a backslash, so no such name matches one of ours.
  std::string name;
  std::vector<std::uint8_t> wire_name;  // uncompressed, for the response's question section
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

struct Edns {
  std::uint16_t udp_size = 0;  // the client's, at least 512
  std::uint8_t version = 0;
  bool dnssec_ok = false;
};

// What a datagram or TCP message held, as far as it could be read.
struct ParsedQuery {
  enum class Status {
    Ok,       // one question, well formed
    FormErr,  // the header is readable, the rest is not (answer FORMERR)
    NotImp,   // a well-formed message that is not a standard query (answer NOTIMP)
    BadVers,  // EDNS version above 0 (answer BADVERS, RFC 6891 6.1.3)
    Drop,     // not even a header, or a response: never answered
  };
  Status status = Status::Drop;
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;
  bool recursion_desired = false;
  bool checking_disabled = false;
  std::optional<Question> question;  // set for Ok, and for the others when it was readable
  std::optional<Edns> edns;
};

ParsedQuery parse_query(std::span<const std::uint8_t> message);

// One resource record to send. `rdata` names (CNAME, PTR, SRV targets, SOA) are written by
// the helpers below so they can be compressed against the rest of the message.
struct ResourceRecord {
  std::string name;  // dotted, no trailing dot
  RecordType type = RecordType::A;
  std::uint32_t ttl = 0;
  // The record data as parts, in order: raw bytes, or a name (is_name) to compress.
  struct Part {
    std::vector<std::uint8_t> bytes;
    std::string name;
    bool is_name = false;
  };
  std::vector<Part> rdata;
};

// Record data builders. An IP text that does not parse gives an empty optional.
std::optional<ResourceRecord> a_record(std::string name, std::uint32_t ttl, const std::string& ip);
std::optional<ResourceRecord> aaaa_record(std::string name, std::uint32_t ttl,
                                          const std::string& ip);
ResourceRecord name_record(std::string name, RecordType type, std::uint32_t ttl,
                           std::string target);  // CNAME, PTR, NS
ResourceRecord srv_record(std::string name, std::uint32_t ttl, std::uint16_t priority,
                          std::uint16_t weight, std::uint16_t port, std::string target);
ResourceRecord txt_record(std::string name, std::uint32_t ttl, const std::string& text);
ResourceRecord soa_record(std::string zone, std::uint32_t ttl, std::uint32_t serial,
                          std::uint32_t minimum);

struct Response {
  Rcode rcode = Rcode::NoError;
  std::uint16_t extended_rcode = 0;  // the upper 8 bits go in OPT (BADVERS = 16)
  bool authoritative = false;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authority;
  std::vector<ResourceRecord> additional;
};

// The response to `query` in at most `max_size` bytes (512 or the client's EDNS size over
// UDP, 65535 over TCP): records that do not fit are left off and TC set when an answer or
// authority record was (RFC 2181 9: additional records are dropped silently). An OPT with
// `our_udp_size` is added when the query had one. RA is never set: no recursion.
std::vector<std::uint8_t> encode_response(const ParsedQuery& query, const Response& response,
                                          std::size_t max_size, std::uint16_t our_udp_size);

// ASCII lower case: DNS names compare case-insensitively (RFC 4343).
std::string lower_case(std::string_view text);

// How large a response to `query` may be over UDP: the client's EDNS size (at least 512),
// capped by ours; 512 without EDNS.
std::size_t udp_response_limit(const ParsedQuery& query, std::uint16_t our_udp_size);

}  // namespace svcproxy::dns
