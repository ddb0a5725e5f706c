// Package nginxconf writes the nginx configuration for Atoll replicas
// behind one nginx: a shared cache for the pages' shells, each page's
// islands filled into the same response with SSI subrequests (never
// cached, the visitor's cookies passed on), the islands and actions
// passed through, and upstream settings that let a rolling restart drop
// nothing. `atoll nginx` prints it; tests/internal/cluster (make cluster and
// the cluster test) runs nginx on it.
//
//	err := nginxconf.Write(os.Stdout, nginxconf.Config{
//		Listen:    "127.0.0.1:8080",
//		Upstreams: []string{"127.0.0.1:8081", "127.0.0.1:8082"},
//		Dir:       "/var/lib/atoll-nginx",
//	})
//
// The output runs as `nginx -p DIR -c FILE`: every path nginx writes
// (pid, error log, temporary files, cache) is under Dir.
package nginxconf

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// Config is what varies between deployments.
type Config struct {
	// Listen is nginx's address, such as 127.0.0.1:8080 or :80.
	Listen string
	// Upstreams are the replicas' host:port addresses.
	Upstreams []string
	// Dir is nginx's prefix: the pid file, error log, temporary files and
	// cache go under it. Made absolute when it is not.
	Dir string
}

// Validate reports the first setting nginx could not use.
func (c Config) Validate() error {
	if err := checkAddr(c.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if len(c.Upstreams) == 0 {
		return errors.New("upstreams: want one or more host:port")
	}
	for _, u := range c.Upstreams {
		if err := checkAddr(u); err != nil {
			return fmt.Errorf("upstream: %w", err)
		}
	}
	if c.Dir == "" {
		return errors.New("dir: want nginx's prefix directory")
	}
	if strings.ContainsAny(c.Dir, " \t\n;{}\"'") {
		return fmt.Errorf("dir %q: nginx paths here must not hold spaces, quotes, braces or semicolons", c.Dir)
	}
	return nil
}

// checkAddr accepts host:port (host may be empty) with nothing in it that
// would end an nginx directive early.
func checkAddr(addr string) error {
	if strings.ContainsAny(addr, " \t\n;{}\"'") {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("%q: want host:port", addr)
	}
	return nil
}

// Write writes the configuration for c to w.
func Write(w io.Writer, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return fmt.Errorf("dir: %w", err)
	}
	c.Dir = filepath.ToSlash(dir)
	if err := conf.Execute(w, c); err != nil {
		return fmt.Errorf("write the nginx configuration: %w", err)
	}
	return nil
}

// conf is the configuration. Each setting that a rolling restart depends
// on says why in a comment of its own, which reaches the reader of the
// generated file too.
var conf = template.Must(template.New("nginx.conf").Parse(`# nginx in front of Atoll replicas (written by atoll nginx): a shared cache
# for the pages, their islands filled into the same response by SSI, the
# islands and actions passed through, and upstream settings that let a
# rolling restart drop nothing. Run it with
#   nginx -p {{.Dir}} -c FILE
# in the foreground, under a supervisor (systemd, a container, make cluster).
# The replicas must trust this nginx's address (ATOLL_TRUSTED_PROXIES), or
# they answer its X-Atoll-Edge header with the ordinary page.
daemon off;
master_process off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy_temp;
    fastcgi_temp_path {{.Dir}}/fastcgi_temp;
    uwsgi_temp_path {{.Dir}}/uwsgi_temp;
    scgi_temp_path {{.Dir}}/scgi_temp;

    # Pages are "public, max-age=N" with a strong ETag: cached here and
    # revalidated with If-None-Match; replicas of one build send the same
    # bytes and ETags, so either answers 304. Islands are "no-store" and
    # actions are POSTs: never cached.
    proxy_cache_path {{.Dir}}/cache levels=1:2 keys_zone=atoll:10m max_size=256m inactive=1h use_temp_path=off;

    # A page's shell comes uncompressed, for SSI reads only plain HTML;
    # the stitched page is compressed here on its way out. Responses the
    # replicas compressed (islands, assets) pass as they are, and the
    # islands' event stream is not a type gzip touches.
    gzip on;
    gzip_vary on;
    gzip_comp_level 5;
    gzip_types text/css application/javascript image/svg+xml;

    # A stitched page holds this visitor's islands: whatever its shell
    # says, it leaves as "private, no-store", so no cache in front of this
    # one keeps it for someone else (SSI drops the shell's ETag too).
    # Other responses keep their own Cache-Control.
    map $upstream_http_x_atoll_stitched $atoll_cache_control {
        ""      $upstream_http_cache_control;
        default "private, no-store";
    }

    upstream atoll {
        # max_fails=1 fail_timeout=2s: a replica that refuses a connection
        # (stopped, restarting, crashed) is skipped for 2 s, not the
        # default 10 s; the request goes to the next one.
{{- range .Upstreams}}
        server {{.}} max_fails=1 fail_timeout=2s;
{{- end}}
        # The same replicas again as backups that are never marked down.
        # nginx takes a replica back only after fail_timeout, when a
        # request to it succeeds; if it refused one while it was starting,
        # it stays marked a while after it is ready, and when the next
        # replica of a rolling restart then stops, every primary is marked
        # down and, without these, each request gets 502 "no live
        # upstreams" although one replica is up. With them nginx tries the
        # replicas anyway, so a rolling restart need only wait for each
        # replica's /readyz before stopping the next.
{{- range .Upstreams}}
        server {{.}} backup max_fails=0;
{{- end}}
        keepalive 32;
        # Close idle connections to a replica before its drain ends
        # (ATOLL_DRAIN_DELAY, 5 s by default): no request is ever sent on a
        # connection the replica is about to close.
        keepalive_timeout 4s;
    }

    server {
        listen {{.Listen}};

        # Pages: the shell is cached, and each response is the shell with
        # this visitor's islands filled in by SSI subrequests (/_edge/
        # below), run in parallel while what comes before them streams.
        location / {
            proxy_pass http://atoll;
{{template "proxy"}}
            # Asks for the page's shell (honoured from a trusted proxy
            # only), and is part of the cache key: the shell and the
            # ordinary page are never mixed up in this cache.
            proxy_buffering on;
            proxy_set_header X-Atoll-Edge ssi;
            proxy_cache_key "$scheme$proxy_host$request_uri ssi";
            proxy_cache atoll;
            proxy_cache_revalidate on;
            ssi on;
            # Island URLs carry their sealed props.
            ssi_value_length 4096;
            proxy_hide_header Cache-Control;
            proxy_hide_header X-Atoll-Stitched;
            add_header Cache-Control $atoll_cache_control always;
            add_header X-Cache-Status $upstream_cache_status always;
        }

        # Islands and their batch stream as the browser asks for them
        # (refreshes, pages served without the edge): never cached, never
        # parsed for SSI.
        location ~ /_islands(/|$) {
            proxy_pass http://atoll;
{{template "proxy"}}
            # Responses are buffered; the batch stream of islands says
            # X-Accel-Buffering: no and so is passed on as it is written.
            proxy_buffering on;
            proxy_cache off;
        }

        # The islands of a stitched page: SSI subrequests only (internal:
        # a visitor cannot ask for /_edge/ itself), carrying the visitor's
        # cookies, never cached, uncompressed so they can be spliced in.
        # An island that fails answers with its error state; when nginx
        # cannot get an answer at all (no replica, a timeout) the
        # subrequest is empty and SSI writes the error state the shell
        # holds for it (stub), never an nginx error page.
        location ^~ /_edge/ {
            internal;
            rewrite ^/_edge(/.*)$ $1 break;
            proxy_pass http://atoll;
{{template "proxy"}}
            proxy_set_header Accept-Encoding "";
            proxy_cache off;
            # Each island is passed on as it comes, with a flush that makes
            # gzip send what it holds of the page up to it.
            proxy_buffering off;
            proxy_read_timeout 10s;
            error_page 502 503 504 = @edge_unanswered;
        }
        location @edge_unanswered {
            return 204;
        }

        # Actions, POST {base}/actions/{name}. One that carries no
        # Idempotency-Key is never sent again once a byte of it reached a
        # replica: it may have been applied. One that carries a key goes
        # to @keyed_action, which sends it to another replica when the
        # first dies under it: the replicas answer a repeated key with the
        # first answer, so the visitor loses nothing and nothing is done
        # twice. (An "if" holding only "return" is safe in nginx.)
        location ~ /actions/[a-z0-9][a-z0-9/-]*$ {
            error_page 418 = @keyed_action;
            if ($http_idempotency_key) {
                return 418;
            }
            proxy_pass http://atoll;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_cache off;
        }
        location @keyed_action {
            proxy_pass http://atoll;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Not http_503 or http_504, as above: a replica that answered
            # them within the action's deadline (its store is out or hung)
            # has answered; trying the next would only make the visitor
            # wait longer for the same answer.
            proxy_next_upstream error timeout http_502 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_cache off;
        }

        # Health for the balancer's own checks; never cached.
        location = /readyz {
            proxy_pass http://atoll;
            proxy_cache off;
        }
    }
}
{{define "proxy"}}            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A refused or reset connection, or a 502, sends the request to
            # the next replica; POSTs too, as long as no byte of them
            # reached a replica. A POST that reached one that then died
            # (kill -9, a crash) is not retried, as it may have been
            # applied: its client gets 502. A 503 is never retried: Atoll
            # answers it only on purpose (the shared store is down, or
            # renders are saturated), with Retry-After, and the same from
            # every replica; retrying would mark them all down and turn the
            # answer into nginx's 502.
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
{{- end}}
`))

// Path finds the nginx binary: on PATH, else /usr/sbin/nginx, where
// Debian puts it outside an ordinary user's PATH.
func Path() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx is not installed (not on PATH nor at /usr/sbin/nginx): apt-get install -y nginx")
}
