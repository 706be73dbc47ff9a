# slmmux — build, test, install. `make demo` and `make test` set up a fresh
# Debian machine themselves (target deps), so a clone needs nothing else.

VERSION := 0.1.0
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := lua5.4 libcurl libpcre2-8 sqlite3 libcrypto
# Debian packages the build and the tests need; `make deps` installs the missing ones.
DEBS    := pkg-config liblua5.4-dev lua-cjson libcurl4-openssl-dev libpcre2-dev \
           libsqlite3-dev libssl-dev bubblewrap python3 curl time nginx openssl gnuplot-nox

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# CFLAGS and LDFLAGS are the user's (make asan sets them); what the build
# needs is added separately, so a command-line CFLAGS cannot drop it.
CFLAGS  ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS) \
              -DSLMMUX_VERSION='"$(VERSION)"'
LIBS    := $(PKG_LIBS) -lm

# src/<subsystem>/*.c: one folder per subsystem; objects mirror them in build/.
LIB_SRC := $(wildcard src/*/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=build/%.o)
LIB     := build/libslmmux.a
UNIT    := $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c)) \
           $(patsubst tests/security/%.c,build/tests/%,$(wildcard tests/security/test_*.c))
FAKE    := build/fakeserver
# Objects depend on the flags they were built with: after `make asan` a
# plain `make` rebuilds, instead of linking sanitizer objects.
FLAGS   := build/.flags
$(shell mkdir -p build/tests; echo '$(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS) || \
        echo '$(ALL_CFLAGS) $(LDFLAGS)' >$(FLAGS))

.PHONY: all deps demo test check bench asan mutation install uninstall clean
all: slmmux $(UNIT) $(FAKE)

slmmux: build/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build/%.o: src/%.c $(FLAGS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

build/tests/%: tests/unit/%.c $(LIB) $(FLAGS)
	$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

build/tests/%: tests/security/%.c $(LIB) $(FLAGS)
	$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(FAKE): tests/fake/fakeserver.c build/net/json.o build/base/buf.o $(FLAGS)
	$(CC) $(ALL_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o,$^) -lm

-include $(wildcard build/*.d build/*/*.d build/tests/*.d)

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
# The demo always runs on the simulator: an OPENAI_BASE_URL or API key in
# the environment must not turn it into 1,000 paid requests.
demo: deps
	@$(MAKE) --no-print-directory slmmux
	./slmmux run recipes/math.lua --limit 100 -s backend=sim

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@for b in tests/bench/*.sh; do echo "== $$b"; $$b || exit 1; done

# The whole suite under AddressSanitizer, LeakSanitizer and UBSan (objects
# are rebuilt with the flags, and rebuilt back by the next plain make). Any
# report fails: UB aborts (no recover), ASan halts, and tests/run.sh fails a
# test whose processes wrote a report even if it ignored their exit status.
# The sandbox's forked children end with _exit, so LSan checks the host
# only, never a child's copy of the host's heap.
SAN_ASAN := detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
SAN_UBSAN := halt_on_error=1:print_stacktrace=1
asan: deps
	@$(MAKE) --no-print-directory all CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined"
	@ASAN_OPTIONS=$(SAN_ASAN) UBSAN_OPTIONS=$(SAN_UBSAN) tests/run.sh

# Each protection of the sandbox removed in turn: its security test must fail.
mutation: deps
	@$(MAKE) --no-print-directory $(LIB)
	@tests/security/mutation.sh

# Installed, slmmux finds its library, recipes (slmmux run math, slmmux
# recipes) and data in $(PREFIX)/share/slmmux beside its bin directory.
install: slmmux
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/slmmux
	install -m 755 slmmux $(DESTDIR)$(PREFIX)/bin/slmmux
	cp -R lua recipes data $(DESTDIR)$(PREFIX)/share/slmmux/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/slmmux
	rm -rf $(DESTDIR)$(PREFIX)/share/slmmux

clean:
	rm -rf build slmmux
