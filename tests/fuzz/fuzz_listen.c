/* SPDX-License-Identifier: MIT */
/* fuzz_listen.c - libFuzzer target for the one address syntax
 * (common/addr.c: "HOST:PORT", "[V6]:PORT", ":PORT", "*:PORT",
 * "unix:/path"), which tpclient and tpbench use directly and the library
 * behind tps_server_listen() (tps__endpoint_parse in lib/sockaddr.c, with
 * listener.c's "proxy:" prefix) and so tpserver's --listen use through
 * it, and the port parser all share.
 *
 * Host names are never resolved here (a fuzzer must not send DNS queries):
 * the library parser is called only when the host part is empty, "*", or a
 * numeric address, which getaddrinfo answers without the network.
 * Properties: an error always says why; a parsed address prints
 * (tps__peer_format) to a spec that parses back to the same address; a
 * unix path is kept byte for byte; the port parser agrees with a
 * reference; the split agrees with the library's verdict on every spec
 * it could check, and the clients' form (no wildcard host) takes exactly
 * what the listeners' form takes with a host. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/un.h>

#include "fuzz.h"
#include "../../common/addr.h"
#include "sockaddr.h"
#include "tpserv.h"

/* The host part as tps__endpoint_parse splits it, or false if it would
 * not get that far. */
static bool host_part(const char *spec, char *host, size_t cap)
{
    const char *h = spec, *end;
    if (*spec == '[') {
        end = strchr(spec, ']');
        if (end == NULL)
            return false;
        h = spec + 1;
    } else {
        end = strrchr(spec, ':');
        if (end == NULL)
            return false;
    }
    size_t n = (size_t)(end - h);
    if (n >= cap)
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    return true;
}

static bool numeric_host(const char *host)
{
    unsigned char a[16];
    return host[0] == '\0' || strcmp(host, "*") == 0 || inet_pton(AF_INET, host, a) == 1 ||
           inet_pton(AF_INET6, host, a) == 1;
}

static int ref_port(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return -1;
    long v = strtol(s, NULL, 10);
    return v <= 65535 ? (int)v : -1;
}

/* The split of common/addr.c, as listeners (wildcards) and as clients
 * take it; returns whether the listeners' form took spec. */
static bool split_takes(const char *spec, bool *client_ok)
{
    struct tpcm_addr a, c;
    const char *why = NULL, *cwhy = NULL;
    int rc = tpcm_addr_parse(spec, TPCM_ADDR_ANY, &a, &why);
    int crc = tpcm_addr_parse(spec, 0, &c, &cwhy);
    FUZZ_CHECK(why != NULL && cwhy != NULL);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
    FUZZ_CHECK(rc == 0 || why[0] != '\0');
    if (rc == 0 && a.kind == TPCM_ADDR_INET) {
        FUZZ_CHECK(a.port == ref_port(a.port_text));
        FUZZ_CHECK(strlen(a.host) < sizeof a.host);
    }
    if (rc == 0 && a.kind == TPCM_ADDR_UNIX)
        FUZZ_CHECK(strcmp(a.path, spec + 5) == 0);
    /* The clients' form: the same, less the wildcard host. */
    FUZZ_CHECK((crc == 0) == (rc == 0 && (a.kind == TPCM_ADDR_UNIX || a.host[0] != '\0')));
    *client_ok = crc == 0;
    return rc == 0;
}

/* A parsed IP endpoint, printed and parsed again, is the same address. */
static void check_round_trip(const tps__endpoint *ep)
{
    tps__peer p;
    char text[TPS__ADDRSTRLEN];
    tps__peer_from_sockaddr(&p, (const struct sockaddr *)&ep->ss);
    FUZZ_CHECK(tps__peer_format(&p, text, sizeof text) == 0);
    tps__endpoint again;
    const char *why;
    FUZZ_CHECK(tps__endpoint_parse(text, &again, &why) == 0);
    tps__peer q;
    tps__peer_from_sockaddr(&q, (const struct sockaddr *)&again.ss);
    FUZZ_CHECK(memcmp(&p, &q, sizeof p) == 0);
    FUZZ_CHECK(again.len == ep->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 300)
        return 0;
    char *spec = fuzz_str(d, n);
    FUZZ_CHECK(tps__parse_port(spec) == ref_port(spec));

    bool proxy = strncmp(spec, "proxy:", 6) == 0;
    const char *addr = proxy ? spec + 6 : spec;
    char host[300] = "";
    bool is_unix = strncmp(addr, "unix:", 5) == 0;
    bool lib_ok = false, lib_called = false;
    if (is_unix || !host_part(addr, host, sizeof host) || numeric_host(host)) {
        tps__endpoint ep;
        const char *why = NULL;
        int rc = tps__endpoint_parse(addr, &ep, &why);
        FUZZ_CHECK(why != NULL);
        FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG || rc == TPS_EAI);
        if (rc < 0) {
            FUZZ_CHECK(why[0] != '\0');
        } else if (is_unix) {
            const struct sockaddr_un *sun = (const struct sockaddr_un *)&ep.ss;
            FUZZ_CHECK(sun->sun_family == AF_UNIX && strcmp(sun->sun_path, addr + 5) == 0);
        } else {
            FUZZ_CHECK(ep.ss.ss_family == AF_INET || ep.ss.ss_family == AF_INET6);
            FUZZ_CHECK(ep.any == (host[0] == '\0' || strcmp(host, "*") == 0));
            check_round_trip(&ep);
        }
        lib_ok = rc == 0;
        lib_called = true;
    }
    bool client_ok;
    bool split_ok = split_takes(addr, &client_ok);
    /* The library splits with common/addr.c: where it was asked, a spec
     * the split refuses it refuses, and one the split takes it takes (a
     * numeric host resolves without the network). */
    if (lib_called)
        FUZZ_CHECK(split_ok == lib_ok);
    free(spec);
    return 0;
}
