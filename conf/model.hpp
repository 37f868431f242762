// The validated, immutable configuration model: what the YAML said, with defaults applied
// and ClusterIPs/NodePorts allocated. Plain values only; no I/O, no Asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/shared_list.hpp"

namespace svcproxy::conf {

using Duration = std::chrono::milliseconds;
using Labels = std::map<std::string, std::string>;

// Where a document or field came from, for diagnostics that point at the YAML.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

enum class ServiceType { ClusterIP, NodePort, LoadBalancer, ExternalName };
enum class AppProtocol { Tcp, Http };
// spec.ports[].protocol: what the port carries (SCTP is refused).
enum class Transport { Tcp, Udp };
enum class SessionAffinity { None, ClientIP };
enum class TrafficPolicy { Cluster, Local };
enum class LoadBalancing { RoundRobin, LeastConnections };
enum class IpFamily { IPv4, IPv6 };
enum class IpFamilyPolicy { SingleStack, PreferDualStack, RequireDualStack };

// A port given by number or by a container port's name (Kubernetes' IntOrString).
// metadata.creationTimestamp (RFC 3339), as the API shows it (parsers.hpp: Metadata). Not
// part of an object's definition: any two compare equal, so a re-read object that did not
// change is still the same to the reload.
struct CreationTime {
  std::string rfc3339;
  friend bool operator==(const CreationTime&, const CreationTime&) { return true; }
};

struct PortRef {
  int number = 0;
  std::string name;

  bool is_named() const { return !name.empty(); }
  friend bool operator==(const PortRef&, const PortRef&) = default;
};

struct ServicePort {
  std::string name;
  int port = 0;
  PortRef target_port;  // defaults to `port`
  int node_port = 0;    // 0 for ClusterIP services; allocated for NodePort/LoadBalancer
  Transport transport = Transport::Tcp;
  AppProtocol app_protocol = AppProtocol::Tcp;  // what a TCP port speaks
  std::string app_protocol_name;  // spec.ports[].appProtocol as written; empty when absent
  bool tls = false;  // terminates TLS (svcproxy.io/tls-ports; all ports when not given)
  // Speaks TLS to the pods (svcproxy.io/backend-protocol: https, or appProtocol https);
  // only on HTTP ports, verified as the Service's BackendTls says.
  bool backend_tls = false;
  SourceLocation location;
  SourceLocation node_port_location;  // where an explicit nodePort is written (diagnostics)

  friend bool operator==(const ServicePort&, const ServicePort&) = default;
};

// How svcproxy verifies the pods' certificates on its backend_tls ports, as Gateway API's
// BackendTLSPolicy: against the `ca.crt` of a Secret of the Service's namespace
// (svcproxy.io/backend-ca-secret; the system's trust store when not given) and for one
// hostname (svcproxy.io/backend-tls-hostname, also sent as SNI). Never without both.
struct BackendTls {
  std::string ca_secret;
  std::string hostname;
  SourceLocation location;  // the backend-protocol annotation or the port (diagnostics)

  friend bool operator==(const BackendTls&, const BackendTls&) = default;
};

struct Service {
  std::string namespace_name = "default";
  std::string name;
  Labels annotations;
  Labels selector;  // empty: the Service selects no pods
  ServiceType type = ServiceType::ClusterIP;
  std::string external_name;  // type ExternalName: the DNS name it stands for (no listener)
  std::string cluster_ip;     // spec.clusterIP = clusterIPs[0]; allocated when absent in YAML
  bool headless = false;      // clusterIP: None -> no listener
  // A dual-stack Service's ClusterIP of its second family (spec.clusterIPs[1]): written, or
  // allocated when its IP families are two. Listened on as cluster_ip is.
  std::string secondary_cluster_ip;
  // spec.ipFamilies and spec.ipFamilyPolicy as written (empty: not written). What they are
  // after kube-apiserver's defaulting depends on serviceCIDR: see conf/ip_families.hpp.
  std::vector<IpFamily> ip_families;
  std::vector<SourceLocation> ip_family_locations;  // of each written ipFamilies item
  std::optional<IpFamilyPolicy> ip_family_policy;
  SourceLocation ip_family_policy_location;
  SourceLocation secondary_cluster_ip_location;  // where a written clusterIPs[1] is
  std::vector<ServicePort> ports;
  SessionAffinity session_affinity = SessionAffinity::None;
  Duration affinity_timeout = std::chrono::seconds(10800);
  TrafficPolicy external_traffic_policy = TrafficPolicy::Cluster;
  // internalTrafficPolicy: Local sends ClusterIP traffic only to this node's pods.
  TrafficPolicy internal_traffic_policy = TrafficPolicy::Cluster;
  // allocateLoadBalancerNodePorts (LoadBalancer only): false allocates no NodePort unless
  // a port asks for one.
  bool allocate_load_balancer_node_ports = true;
  // LoadBalancer + externalTrafficPolicy Local: the NodePort where each node answers how
  // many of the Service's pods it holds (0 until allocated), so a load balancer in front
  // skips nodes with none, as kube-proxy's service health server.
  int health_check_node_port = 0;
  SourceLocation health_check_node_port_location;  // where an explicit one is written
  // Where a LoadBalancer listens: spec.loadBalancerIP and status.loadBalancer.ingress[].ip.
  // Empty: every ProxySettings::node_port_addresses address.
  std::vector<std::string> load_balancer_ips;
  std::optional<LoadBalancing> load_balancing;  // annotation svcproxy.io/load-balancing
  bool publish_not_ready_addresses = false;
  // trafficDistribution: PreferClose: ClusterIP (and externalTrafficPolicy Cluster) traffic
  // prefers ready pods in this node's zone, as kube-proxy does with the zone hints.
  bool prefer_close = false;
  // svcproxy.io/tls-secret: the kubernetes.io/tls Secrets of this namespace its TLS ports
  // serve; the first when the client names no server (SNI) or none of theirs.
  std::vector<std::string> tls_secrets;
  bool tls_strict_sni = false;  // svcproxy.io/tls-strict-sni: no match is a failed handshake
  SourceLocation tls_location;  // the tls-secret annotation (diagnostics)
  BackendTls backend_tls;       // how pods' certificates are verified (backend_tls ports)
  Labels labels;                // metadata.labels (the API's label selectors)
  CreationTime created;
  SourceLocation location;
  SourceLocation cluster_ip_location;  // where an explicit clusterIP is written (diagnostics)

  std::string key() const { return namespace_name + "/" + name; }
  friend bool operator==(const Service&, const Service&) = default;
};

struct HttpHeader {
  std::string name;
  std::string value;

  friend bool operator==(const HttpHeader&, const HttpHeader&) = default;
};

// A readinessProbe, with Kubernetes' defaults.
struct Probe {
  enum class Kind { HttpGet, TcpSocket };
  Kind kind = Kind::TcpSocket;
  std::string path = "/";  // httpGet
  PortRef port;
  std::string host;    // httpGet.host; empty: the pod's IP
  bool https = false;  // httpGet.scheme HTTPS: TLS, the certificate not checked (as the kubelet)
  std::vector<HttpHeader> http_headers;
  Duration initial_delay = std::chrono::seconds(0);
  Duration period = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(1);
  int success_threshold = 1;
  int failure_threshold = 3;

  friend bool operator==(const Probe&, const Probe&) = default;
};

struct ContainerPort {
  std::string name;
  int container_port = 0;
  std::string protocol = "TCP";  // TCP, UDP or SCTP: a named targetPort matches name and protocol

  friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

struct Container {
  std::string name;
  std::vector<ContainerPort> ports;
  std::optional<Probe> readiness_probe;

  friend bool operator==(const Container&, const Container&) = default;
};

struct Pod {
  std::string namespace_name = "default";
  std::string name;
  Labels labels;
  Labels annotations;     // shown by the API (kubectl apply keeps its last-applied config here)
  std::string pod_ip;     // status.podIP
  std::string phase;      // status.phase; Succeeded and Failed pods are never endpoints
  std::string node_name;  // spec.nodeName, for externalTrafficPolicy: Local
  std::vector<Container> containers;
  // A Pod that declares no containers inherits the template's of the Deployment whose
  // selector matches its labels; this names that Deployment (empty otherwise).
  std::string owner_deployment;
  CreationTime created;
  SourceLocation location;

  std::string key() const { return namespace_name + "/" + name; }
  // Succeeded or Failed: never an endpoint (Kubernetes' ShouldPodBeInEndpoints).
  bool terminated() const { return phase == "Succeeded" || phase == "Failed"; }
  friend bool operator==(const Pod&, const Pod&) = default;
};

struct Deployment {
  std::string namespace_name = "default";
  std::string name;
  Labels annotations;
  int replicas = 1;
  Labels match_labels;
  Labels template_labels;
  std::vector<Container> containers;
  // Annotation svcproxy.io/dns: the pods are the addresses this name resolves to.
  std::string dns_name;
  Duration dns_refresh = std::chrono::seconds(5);  // svcproxy.io/dns-refresh
  Labels labels;
  CreationTime created;
  SourceLocation location;

  std::string key() const { return namespace_name + "/" + name; }
};

// A v1 Secret of type kubernetes.io/tls, decoded.
struct TlsSecret {
  std::string namespace_name = "default";
  std::string name;
  std::string certificate_pem;
  std::string private_key_pem;
  // `ca.crt`: the CA bundle pods' certificates are verified against (backend-ca-secret).
  // An Opaque Secret is read only for it, and has no certificate and key of its own.
  std::string ca_pem;
  // `tls.ocsp`: a DER OCSP response for the certificate, stapled to handshakes (optional).
  std::string ocsp_der;
  bool key_pair = true;  // type kubernetes.io/tls: tls.crt and tls.key, servable
  // The DNS names of the leaf certificate's subjectAltName (as SNI matches them, RFC 6125:
  // the subject's CN only when there is no DNS SAN), read when the Secret was checked.
  std::vector<std::string> dns_names;
  SourceLocation location;

  std::string key() const { return namespace_name + "/" + name; }
};

// ProxyConfig `tls`: what every TLS listener accepts. Defaults: TLS 1.2 and 1.3 with
// Mozilla's "intermediate" ciphers.
struct TlsSettings {
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string ciphers;              // OpenSSL cipher list for TLS 1.2; empty: intermediate
  Duration ticket_key_rotation = std::chrono::hours(1);  // session ticket keys

  friend bool operator==(const TlsSettings&, const TlsSettings&) = default;
};

struct Timeouts {
  Duration connect = std::chrono::seconds(5);
  Duration idle = std::chrono::seconds(300);
  Duration request_header = std::chrono::seconds(10);
  Duration upstream_response = std::chrono::seconds(60);
  Duration drain = std::chrono::seconds(30);
  Duration request_body = std::chrono::seconds(60);   // between two reads of a request body
  Duration tls_handshake = std::chrono::seconds(10);  // accept to a finished TLS handshake
  // A UDP session with no datagram either way for this long ends (kube-proxy's conntrack
  // UDP timeout); the client's next datagram opens a new one.
  Duration udp_idle = std::chrono::seconds(30);
};

struct Limits {
  int max_connections = 100000;               // per process, across all listeners
  int max_udp_sessions = 100000;              // per process; the oldest idle one makes room
  int max_header_bytes = 64 * 1024;           // a request head; also the trailer section
  std::int64_t max_body_bytes = 0;            // 0: unlimited
  int max_request_line_bytes = 8192;          // method, target and version (414 above)
  int max_header_count = 100;                 // header fields of a request; also trailer fields
  int max_chunk_line_bytes = 4096;            // a chunk-size line, extensions included
  bool allow_underscores_in_headers = false;  // false: such fields are dropped (as nginx)
};

// The admin and API listeners' own bounds (ProxyConfig spec.admin): scrapes, kubectl, and
// one manifest per write. kube-apiserver takes bodies up to 3 MiB (etcd keeps values up to
// 1.5 MiB); it ends watches after 30-60 min.
struct AdminLimits {
  std::int64_t max_body_bytes = 3 * 1024 * 1024;
  int max_header_bytes = 16 * 1024;
  int max_connections = 64;                             // per listener, watches included
  Duration request_timeout = std::chrono::seconds(10);  // one request's head and body
  Duration write_timeout = std::chrono::seconds(30);    // one response (/metrics to a slow reader)
  Duration watch_poll_interval = std::chrono::seconds(1);  // how soon a watch sees a change
  Duration max_watch_duration = std::chrono::minutes(30);

  friend bool operator==(const AdminLimits&, const AdminLimits&) = default;
};

struct OutlierDetection {
  bool enabled = true;
  int consecutive_failures = 5;  // connect failures or resets
  int consecutive_5xx = 5;
  Duration base_ejection_time = std::chrono::seconds(30);
  Duration max_ejection_time = std::chrono::seconds(300);
  int max_ejection_percent = 50;

  friend bool operator==(const OutlierDetection&, const OutlierDetection&) = default;
};

// How an edge checks a node's healthCheckNodePort before sending it a Service's
// externalTrafficPolicy Local traffic (ProxyConfig spec.nodeHealthCheck): like a cloud load
// balancer's health check, an HTTP GET that must answer 200.
struct NodeHealthCheck {
  Duration period = std::chrono::seconds(2);
  Duration timeout = std::chrono::seconds(1);
  int failure_threshold = 2;
  int success_threshold = 1;

  friend bool operator==(const NodeHealthCheck&, const NodeHealthCheck&) = default;
};

struct AccessLog {
  enum class Format { Text, Json };
  bool enabled = true;  // false: no line at all, as nginx's `access_log off`
  Format format = Format::Text;
  std::string path;  // empty or "stderr": standard error
};

// A worker node an edge instance forwards LoadBalancer traffic to (at the NodePort), and
// the zone it is in (its topology.kubernetes.io/zone label), which trafficDistribution
// PreferClose routes by. An entry without an address only tells a node's zone.
struct NodeRef {
  std::string name;
  std::string address;  // empty: no LoadBalancer traffic goes to it
  // Empty: the node has no zone. Initialised, so a {name, address} stays warning-free.
  std::string zone = std::string();

  friend bool operator==(const NodeRef&, const NodeRef&) = default;
};

struct PortRange {
  int first = 30000;
  int last = 32767;

  int size() const { return last - first + 1; }
  bool contains(int port) const { return port >= first && port <= last; }
};

// Cluster mode: where the cluster state lives (ProxyConfig `etcd`; --etcd overrides the
// endpoints). No endpoints: file mode.
struct EtcdSettings {
  std::vector<std::string> endpoints;  // "http://host:port"
  std::string prefix = "/registry";
  Duration lease_ttl = std::chrono::seconds(10);
  Duration node_grace_period = std::chrono::seconds(40);
  Duration resync_period = std::chrono::minutes(5);
  Duration request_timeout = std::chrono::seconds(5);
  std::string advertise_address;  // empty: the first specific nodePortAddresses, else 127.0.0.1
  bool edge = false;              // LoadBalancer traffic to the live registered nodes

  friend bool operator==(const EtcdSettings&, const EtcdSettings&) = default;
};

// ProxyConfig `dns`: the cluster DNS server (UDP and TCP on one address) answering the
// Kubernetes DNS specification's names of `domain` from the snapshot. Absent: no server.
struct ClusterDns {
  bool enabled = false;
  std::string address = "127.0.0.53:53";
  std::string domain = "cluster.local";  // lower case, no trailing dot
  Duration ttl = std::chrono::seconds(5);
  int udp_payload_size = 1232;  // what the EDNS0 OPT offers (the DNS flag day's size)
  int max_tcp_connections = 128;
  Duration tcp_idle_timeout = std::chrono::seconds(10);  // between two queries on one connection

  friend bool operator==(const ClusterDns&, const ClusterDns&) = default;
};

// svcproxy.io/v1 ProxyConfig; every field has a default.
struct ProxySettings {
  std::string node_name;
  // This node's zone (what kube-proxy reads from its Node's topology.kubernetes.io/zone
  // label); empty: none, and trafficDistribution PreferClose sends to every zone.
  std::string zone;
  std::vector<std::string> node_port_addresses = {"0.0.0.0"};
  std::string service_cidr = "127.96.0.0/12";
  PortRange node_port_range;
  std::string admin_address = "127.0.0.1:10249";
  // kube-proxy's health endpoint (/healthz, /livez with its JSON); "" turns it off.
  std::string healthz_address = "127.0.0.1:10256";
  // A second listener for the Kubernetes API (kubectl); empty: the admin listener serves it.
  std::string api_address;
  // The bearer token API writes must carry: required off loopback, and everywhere once set.
  std::string api_token_file;
  int workers = 0;  // 0: one per core
  LoadBalancing load_balancing = LoadBalancing::RoundRobin;
  std::vector<std::string> dns_servers;  // "ip[:port]"; empty: /etc/resolv.conf
  Timeouts timeouts;
  Limits limits;
  AdminLimits admin;
  OutlierDetection outlier_detection;
  NodeHealthCheck node_health_check;
  AccessLog access_log;
  std::vector<NodeRef> nodes;
  EtcdSettings etcd;
  TlsSettings tls;
  ClusterDns dns;
  SourceLocation location;
};

using ServiceList = SharedList<Service>;
using PodList = SharedList<Pod>;

// Everything one load of the configuration produced. Services keep file order; allocation
// has filled in cluster_ip and node_port. Services and Pods are shared with the document
// cache and the previous snapshot where their documents did not change (see SharedList).
struct Snapshot {
  ProxySettings proxy;
  ServiceList services;
  PodList pods;
  std::vector<Deployment> deployments;
  std::vector<TlsSecret> secrets;
  std::vector<std::string> namespaces;  // v1 Namespace objects (names), for the API
};

const char* to_string(ServiceType type);

// NodePort and LoadBalancer Services hold NodePorts; ClusterIP and ExternalName ones none.
inline bool has_node_ports(const Service& service) {
  return service.type == ServiceType::NodePort || service.type == ServiceType::LoadBalancer;
}

// A LoadBalancer whose external traffic stays on the node holds a healthCheckNodePort
// (Kubernetes' NeedsHealthCheck), whether or not it holds NodePorts for its ports.
inline bool needs_health_check_node_port(const Service& service) {
  return service.type == ServiceType::LoadBalancer &&
         service.external_traffic_policy == TrafficPolicy::Local;
}
const char* to_string(AppProtocol protocol);
const char* to_string(Transport transport);  // "TCP", "UDP"
const char* to_string(LoadBalancing policy);
const char* to_string(SessionAffinity affinity);
const char* to_string(TrafficPolicy policy);
const char* to_string(IpFamily family);
const char* to_string(IpFamilyPolicy policy);

// True when `labels` carry every pair of `selector` (an empty selector is contained in
// anything; callers decide whether that selects).
bool labels_contain(const Labels& labels, const Labels& selector);

// The Node label that names a node's zone (v1.LabelTopologyZone).
inline constexpr std::string_view kZoneLabel = "topology.kubernetes.io/zone";

// The zone of the node named `node_name` (a pod's spec.nodeName): this proxy's own `zone`
// for its own node, else that of the nodes[] entry of that name; empty when unknown.
const std::string& zone_of_node(const ProxySettings& proxy, std::string_view node_name);

// Whether LoadBalancer traffic goes to nodes[] (an edge instance): some entry has an
// address (entries without one only tell zones).
bool forwards_to_nodes(const ProxySettings& proxy);

// The policy a service actually uses: its annotation, else the proxy-wide default.
inline LoadBalancing effective_load_balancing(const Service& service, const ProxySettings& proxy) {
  return service.load_balancing.value_or(proxy.load_balancing);
}

}  // namespace svcproxy::conf
