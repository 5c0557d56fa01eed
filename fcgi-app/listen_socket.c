#include "listen_socket.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
listen_spec_is_tcp(const char *spec)
{
    return spec[0] != '/' && spec[0] != '.' && strrchr(spec, ':') != NULL;
}

/* Is somebody accepting on this path right now? */
static int
unix_path_is_live(const struct sockaddr_un *addr)
{
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return 0;
    int live = connect(probe, (const struct sockaddr *)addr, sizeof *addr) == 0;
    close(probe);
    return live;
}

int
listen_unix(const char *path, unsigned mode, const char *group, int backlog, char *err,
            size_t err_size)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, err_size, "socket path %s is longer than %zu bytes", path,
                 sizeof addr.sun_path - 1);
        return -1;
    }
    strcpy(addr.sun_path, path);

    gid_t gid = (gid_t)-1;
    if (group != NULL && *group != '\0') {
        struct group entry, *found = NULL;
        char buffer[4096];
        if (getgrnam_r(group, &entry, buffer, sizeof buffer, &found) != 0 || found == NULL) {
            snprintf(err, err_size, "unknown group '%s' for %s", group, path);
            return -1;
        }
        gid = found->gr_gid;
    }

    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, err_size, "%s exists and is not a socket", path);
            return -1;
        }
        if (unix_path_is_live(&addr)) {
            snprintf(err, err_size, "%s is already served by another process", path);
            return -1;
        }
        if (unlink(path) != 0) {
            snprintf(err, err_size, "cannot remove stale socket %s: %s", path, strerror(errno));
            return -1;
        }
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket(): %s", strerror(errno));
        return -1;
    }
    /* The umask makes the socket private from the moment it exists; the
     * wanted mode is applied only after the owner group is right. */
    mode_t old_umask = umask(0177);
    int bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    int bind_errno = errno;
    umask(old_umask);
    if (bound != 0) {
        snprintf(err, err_size, "cannot bind %s: %s", path, strerror(bind_errno));
        close(fd);
        return -1;
    }
    if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) || chmod(path, (mode_t)mode) != 0) {
        snprintf(err, err_size, "cannot set owner/mode of %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    if (listen(fd, backlog) != 0) {
        snprintf(err, err_size, "listen(%s): %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

int
listen_tcp(const char *host_port, int backlog, char *err, size_t err_size)
{
    const char *colon = strrchr(host_port, ':');
    size_t host_len = (size_t)(colon - host_port);
    char *host = strndup(host_port, host_len);
    if (host == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    char *bare = host;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host[host_len - 1] = '\0';
        bare = host + 1;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *found = NULL;
    int gai = getaddrinfo(*bare ? bare : NULL, colon + 1, &hints, &found);
    free(host);
    if (gai != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", host_port, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    snprintf(err, err_size, "no usable address for %s", host_port);
    for (struct addrinfo *ai = found; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int on = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
            snprintf(err, err_size, "cannot listen on %s: %s", host_port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    return fd;
}
