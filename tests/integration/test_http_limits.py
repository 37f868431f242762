#!/usr/bin/env python3
"""Every request input is bounded, with a default and a ProxyConfig `limits` field (issue 13):
the request line (414 above maxRequestLineBytes, 8192), the number of header fields (431
above maxHeaderCount, 100), a chunk-size line with its extensions (400 above
maxChunkLineBytes, 4096, and never buffered whole: a 64 MiB extension is refused at once
with the proxy's memory flat), trailers (431 above maxHeaderBytes or maxHeaderCount).
Chunked framing is strict: a bare LF or whitespace before the size is a quick 400, not a
hang. A request refused part-way through its body never reaches a pod whole.

Each limit is tried on both sides of its default and of a configured value, so the test
shows the field is read. The pod is a recording backend.py pod (its log says which requests
arrived whole, `seen`)."""
import os
import select
import socket
import time

import harness
from harness import test
from http_support import assert_rejected, exchange, read_response, rejected_total, start

MIB = 1024 * 1024


def recording_pod(env):
    ip = "127.0.1.1"
    return env.python_pod("rec-1", ip, harness.free_port(ip), record=True)


def get(target, fields=b""):
    return f"GET {target} HTTP/1.1\r\nHost: a\r\n".encode() + fields + b"\r\n"


def chunked_post(target, chunks, trailers=b""):
    """A chunked POST; `chunks` are (size line after the hex size, data)."""
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(data), ext, data) for ext, data in chunks)
    return (f"POST {target} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + body + b"0\r\n" + trailers + b"\r\n")


def many_fields(count, prefix=b"X-Field"):
    return b"".join(b"%s-%d: v%d\r\n" % (prefix, i, i) for i in range(count))


def assert_forwarded(address, pod, data, seen):
    response, _ = exchange(address, data)
    assert response.status == 200 and response.headers.get("x-pod") == pod.name, \
        (data[:100], response)
    harness.wait_until(lambda: seen in pod.seen(), 5, what=f"{seen!r} at the pod")
    return response


def assert_refused(proxy, address, data, status, reason, before_pod=True, within=5):
    since = len(proxy.log_text())
    response, took = exchange(address, data, timeout=within + 5)
    assert took < within, f"{status} took {took:.1f}s for {data[:80]!r}"
    try:
        assert_rejected(proxy, response, status, reason, since, before_pod)
    except AssertionError as error:
        raise AssertionError(f"{data[:100]!r}: {error}") from None


def assert_never_whole(pod, *requests):
    time.sleep(0.2)  # a request that got through whole would be logged by now
    seen = pod.seen()
    for request in requests:
        assert request not in seen, f"{request!r} reached the pod whole: {seen}"


@test(timeout=60)
def request_line_limit(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    assert_forwarded(address, pod, get("/" + "a" * 8000), "GET /" + "a" * 8000)
    assert_refused(proxy, address, get("/" + "b" * 9000), 414, "uri_too_long")
    # Refused as soon as the line passes the limit, not when it ends (it never does here).
    since = len(proxy.log_text())
    with socket.create_connection(address, timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /" + b"c" * 20_000)
        response = read_response(sock, timeout=5)
        assert time.monotonic() - started < 4
        assert_rejected(proxy, response, 414, "uri_too_long", since)
    proxy.stop()

    proxy, address = start(env, [pod], name="configured", limits={"maxRequestLineBytes": 1024})
    assert_forwarded(address, pod, get("/" + "d" * 900), "GET /" + "d" * 900)
    assert_refused(proxy, address, get("/" + "e" * 1500), 414, "uri_too_long")
    assert rejected_total(proxy, "uri_too_long") == 1
    assert_never_whole(pod, "GET /" + "b" * 9000, "GET /" + "e" * 1500)


@test(timeout=60)
def header_count_limit(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    assert_forwarded(address, pod, get("/ninety", many_fields(90)), "GET /ninety")
    assert_refused(proxy, address, get("/many", many_fields(120)), 431, "too_many_headers")
    proxy.stop()

    proxy, address = start(env, [pod], name="configured", limits={"maxHeaderCount": 20})
    assert_forwarded(address, pod, get("/fifteen", many_fields(15)), "GET /fifteen")
    assert_refused(proxy, address, get("/thirty", many_fields(30)), 431, "too_many_headers")
    assert rejected_total(proxy, "too_many_headers") == 1
    assert_never_whole(pod, "GET /many", "GET /thirty")


@test(timeout=60)
def chunk_line_limit(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    response = assert_forwarded(address, pod,
                                chunked_post("/ext-3000", [(b";e=" + b"x" * 3000, b"hello")]),
                                "POST /ext-3000")
    assert response.headers["x-body-length"] == "5", response
    assert_refused(proxy, address, chunked_post("/ext-5000", [(b";e=" + b"x" * 5000, b"hi")]),
                   400, "chunk_line_too_long", before_pod=False)
    # A later chunk's line counts as much as the first's.
    assert_refused(proxy, address, chunked_post("/ext-late", [(b"", b"ok"),
                                                              (b";" + b"y" * 6000, b"no")]),
                   400, "chunk_line_too_long", before_pod=False)
    proxy.stop()

    proxy, address = start(env, [pod], name="configured", limits={"maxChunkLineBytes": 256})
    assert_forwarded(address, pod, chunked_post("/ext-100", [(b";e=" + b"x" * 100, b"hello")]),
                     "POST /ext-100")
    assert_refused(proxy, address, chunked_post("/ext-400", [(b";e=" + b"x" * 400, b"hello")]),
                   400, "chunk_line_too_long", before_pod=False)
    assert rejected_total(proxy, "chunk_line_too_long") == 1
    assert_never_whole(pod, "POST /ext-5000", "POST /ext-late", "POST /ext-400")


@test(timeout=90)
def huge_chunk_extension_is_refused_without_buffering(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    total = 64 * MIB
    baseline = harness.rss_kib(proxy.pid)
    peak = harness.PeakRss(proxy.pid)
    sock = socket.create_connection(address, timeout=10)
    sock.setblocking(False)
    out = memoryview(b"POST /huge-ext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;ext=")
    piece = b"x" * (256 * 1024)
    sent = 0           # extension bytes handed to the kernel
    writing = True
    received = b""
    sent_at_answer = None
    started = time.monotonic()
    try:
        while time.monotonic() - started < 30:
            readable, writable, _ = select.select([sock], [sock] if writing else [], [], 0.5)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    break
                received += data
                if sent_at_answer is None and b"\r\n\r\n" in received:
                    sent_at_answer = sent
            if writable and writing:
                if not out:
                    if sent >= total:
                        writing = False
                        continue
                    out = memoryview(piece)
                try:
                    n = sock.send(out)
                    out = out[n:]
                    sent += n
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    writing = False  # the proxy stopped reading: what it should do
            if sent_at_answer is not None and b"\r\n\r\n" in received and not writing:
                break
        took = time.monotonic() - started
    finally:
        sock.close()
        grown = peak.stop() - baseline
    assert b"\r\n\r\n" in received, \
        f"no answer in {time.monotonic() - started:.1f}s after {sent / MIB:.1f} MiB " \
        f"of extension"
    print(f"  400 after {(sent_at_answer or 0) / MIB:.2f} MiB of extension sent, "
          f"{sent / MIB:.2f} MiB in all, {took:.2f}s; RSS grew {grown} KiB", flush=True)
    response = harness.parse_response(received)
    assert_rejected(proxy, response, 400, "chunk_line_too_long", 0, before_pod=False)
    assert sent_at_answer is not None and sent_at_answer < 32 * MIB, \
        f"the 400 came only after {sent / MIB:.1f} MiB of the extension"
    assert took < 20, took
    limit = 48 if os.environ.get("SVCPROXY_SANITIZED") else 24
    assert grown < limit * 1024, f"RSS grew by {grown} KiB while the extension streamed"
    assert_never_whole(pod, "POST /huge-ext")
    assert proxy.running()
    assert harness.http_request(address).status == 200


@test(timeout=60)
def trailer_limits(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    response = assert_forwarded(address, pod, chunked_post("/trailers-ok", [(b"", b"hello")],
                                                           b"X-Sum: 1\r\nX-Other: 2\r\n"),
                                "POST /trailers-ok")
    assert response.headers["x-body-length"] == "5", response
    big = b"X-Big: " + b"t" * (70 * 1024) + b"\r\n"
    assert_refused(proxy, address, chunked_post("/trailers-big", [(b"", b"hello")], big),
                   431, "trailers_too_large", before_pod=False)
    assert_refused(proxy, address,
                   chunked_post("/trailers-many", [(b"", b"hello")],
                                many_fields(150, b"X-Trailer")),
                   431, "trailers_too_large", before_pod=False)
    proxy.stop()

    proxy, address = start(env, [pod], name="configured",
                           limits={"maxHeaderBytes": 4096, "maxHeaderCount": 20})
    assert_forwarded(address, pod, chunked_post("/small-trailers", [(b"", b"hello")],
                                                many_fields(5, b"X-Trailer")),
                     "POST /small-trailers")
    assert_refused(proxy, address,
                   chunked_post("/trailers-8k", [(b"", b"hello")],
                                b"X-Big: " + b"t" * 8192 + b"\r\n"),
                   431, "trailers_too_large", before_pod=False)
    assert_refused(proxy, address,
                   chunked_post("/trailers-30", [(b"", b"hello")], many_fields(30, b"X-T")),
                   431, "trailers_too_large", before_pod=False)
    assert rejected_total(proxy, "trailers_too_large") == 2
    assert_never_whole(pod, "POST /trailers-big", "POST /trailers-many", "POST /trailers-8k",
                       "POST /trailers-30")


@test(timeout=60)
def chunked_framing_is_strict(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    head = b"POST /%s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    cases = {
        "bare-lf-after-size": b"5\nhello\r\n0\r\n\r\n",
        "bare-lf-after-data": b"5\r\nhello\n0\r\n\r\n",
        "bare-lf-last-chunk": b"5\r\nhello\r\n0\n\r\n",
        "space-before-size": b" 5\r\nhello\r\n0\r\n\r\n",
        "tab-before-size": b"\t5\r\nhello\r\n0\r\n\r\n",
        "data-longer-than-size": b"3\r\nhello\r\n0\r\n\r\n",
    }
    for name, body in cases.items():
        # Quick: well before any timeout (requestHeader 10s, requestBody 60s by default).
        assert_refused(proxy, address, head % name.encode() + body, 400, "bad_chunk",
                       before_pod=False, within=3)
    assert rejected_total(proxy, "bad_chunk") == len(cases)
    assert_never_whole(pod, *(f"POST /{name}" for name in cases))
    # The same body, well framed, goes through.
    response = assert_forwarded(address, pod, head % b"good" + b"5\r\nhello\r\n0\r\n\r\n",
                                "POST /good")
    assert response.headers["x-body-length"] == "5"


if __name__ == "__main__":
    harness.main()
