# nginx in front of the loopback fake server, for the HTTPS and HTTP/2
# tests and benches: a throwaway certificate, a config in a temp dir,
# nginx in the foreground on 127.0.0.1 and a free port. Source it, then:
#   nginx_start DIR UPSTREAM_PORT [KEEPALIVE_REQUESTS]   sets nginx_pid, nginx_port
#   nginx_stop
# DIR gets cert.pem (the certificate, also the CA to trust), access.log with
# one line per request: "$connection $connection_requests $msec $request_time
# $server_protocol $status", and error.log.

nginx_cert() {  # dir
  [ -s "$1/cert.pem" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$1/key.pem" -out "$1/cert.pem" -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1
}

nginx_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

nginx_start() {  # dir upstream_port [keepalive_requests]
  local dir=$1 up=$2 kreq=${3:-100000} try
  nginx_cert "$dir" || { echo "nginx_start: openssl failed" >&2; return 1; }
  mkdir -p "$dir/tmp"
  for try in 1 2 3 4 5; do   # the port may be taken between choosing and binding it
    nginx_port=$(nginx_free_port)
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 8192; }
http {
  log_format flight '\$connection \$connection_requests \$msec \$request_time \$server_protocol \$status';
  access_log $dir/access.log flight;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  upstream fake { server 127.0.0.1:$up; keepalive 256; }
  server {
    listen 127.0.0.1:$nginx_port ssl http2;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;
    http2_max_concurrent_streams 1000;
    keepalive_requests $kreq;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
    : >"$dir/error.log"
    nginx -p "$dir" -c "$dir/nginx.conf" 2>>"$dir/error.log" &
    nginx_pid=$!
    local i
    for i in $(seq 50); do
      kill -0 "$nginx_pid" 2>/dev/null || break
      grep -q "start worker process" "$dir/error.log" && return 0
      sleep 0.1
    done
    kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null
    grep -q "Address already in use" "$dir/error.log" || { cat "$dir/error.log" >&2; return 1; }
  done
  return 1
}

nginx_stop() {
  [ -n "${nginx_pid:-}" ] || return 0
  # each step may find nginx already gone: under set -e a failing kill
  # would end the caller's EXIT trap before it stopped the fake server
  kill -QUIT "$nginx_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=
}
