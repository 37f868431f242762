# svcproxy as a container: build on Debian 12 with the -dev packages, run on a slim
# Debian 12 with only the shared libraries the binary links (keep in sync with
# CMakeLists.txt's target_link_libraries).

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-json1.81-dev libyaml-cpp-dev prometheus-cpp-dev libssl-dev libc-ares-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSVCPROXY_TESTS=OFF \
 && cmake --build /build --target svcproxy \
 && strip --strip-debug /build/svcproxy

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libyaml-cpp0.7 libprometheus-cpp-core1.0 libssl3 libc-ares2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/svcproxy /usr/local/bin/svcproxy
# Root inside the container: ClusterIP listeners use the Service's port (80 here), below
# 1024. Nothing else runs in this image.
EXPOSE 30080 10249
ENTRYPOINT ["/usr/local/bin/svcproxy"]
CMD ["--config", "/etc/svcproxy"]
