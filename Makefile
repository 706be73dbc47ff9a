# slmmux — build, test, install. `make demo` and `make test` set up a fresh
# Debian machine themselves (target deps), so a clone needs nothing else.

VERSION := 0.1.0
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := lua5.4 libcurl libpcre2-8 sqlite3
# Debian packages the build and the tests need; `make deps` installs the missing ones.
DEBS    := pkg-config liblua5.4-dev lua-cjson libcurl4-openssl-dev libpcre2-dev \
           libsqlite3-dev bubblewrap python3 curl time

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(PKG_CFLAGS) \
           -DSLMMUX_VERSION='"$(VERSION)"'
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=build/%.o)
UNIT    := $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c)) \
           $(patsubst tests/security/%.c,build/tests/%,$(wildcard tests/security/test_*.c))
FAKE    := build/fakeserver

.PHONY: all deps demo test check bench asan install clean
all: slmmux $(UNIT) $(FAKE)

slmmux: build/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: src/%.c | build
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

build/tests/%: tests/unit/%.c $(LIB_OBJ) | build
	$(CC) $(CFLAGS) -Isrc -Itests/unit -MMD -MP $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

build/tests/%: tests/security/%.c $(LIB_OBJ) | build
	$(CC) $(CFLAGS) -Isrc -Itests/unit -MMD -MP $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

$(FAKE): tests/fake/fakeserver.c build/json.o build/buf.o | build
	$(CC) $(CFLAGS) -Isrc -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o,$^) -lm

build:
	@mkdir -p build/tests

-include $(wildcard build/*.d build/tests/*.d build/*.d)

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The two README commands. Each re-enters make so pkg-config runs after deps.
demo: deps
	@$(MAKE) --no-print-directory slmmux
	./slmmux run recipes/math.lua --limit 100

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@for b in tests/bench/*.sh; do echo "== $$b"; $$b || exit 1; done

asan: deps
	@$(MAKE) --no-print-directory clean
	@$(MAKE) --no-print-directory all CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined"
	@ASAN_OPTIONS=detect_leaks=1 tests/run.sh

install: slmmux
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/slmmux
	install -m 755 slmmux $(DESTDIR)$(PREFIX)/bin/slmmux
	cp -R lua recipes data $(DESTDIR)$(PREFIX)/share/slmmux/

clean:
	rm -rf build slmmux
