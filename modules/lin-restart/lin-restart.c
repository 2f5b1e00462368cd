/*
 * A restart for the firmware on lin (Moddable's desktop simulator), standing
 * in for esp_restart: the running mcsim process replaces itself with a fresh
 * one, same program and arguments (execv of /proc/self/exe with
 * /proc/self/cmdline), so the app boots again from the start, as the ESP32
 * does after a restart, keeping what is on "flash" (its files). Descriptors
 * beyond stdio are closed first: the portal's listening socket and the
 * meter's pty would otherwise stay open in the new process and keep their
 * ports taken.
 */
#include "xsmc.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32

void xs_lin_restart(xsMachine *the)
{
	static char cmdline[4096];
	char *argv[MAX_ARGS + 1];
	int argc = 0, fd, length, i;

	fd = open("/proc/self/cmdline", O_RDONLY);
	if (fd < 0)
		xsUnknownError("restart: /proc/self/cmdline unreadable");
	length = (int)read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (length <= 0)
		xsUnknownError("restart: empty command line");
	cmdline[length] = 0;
	for (i = 0; i < length && argc < MAX_ARGS; i += (int)strlen(cmdline + i) + 1)
		argv[argc++] = cmdline + i;
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	execv("/proc/self/exe", argv);
	_exit(70); /* exec failed: end, as a device that cannot restart would stop */
}
