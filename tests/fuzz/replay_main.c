/* replay_main.c: runs the fuzz target once per file in the directories given
 * on the command line, so a normal (sanitized) build replays the corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  int files = 0;
  for (int a = 1; a < argc; a++) {
    DIR *d = opendir(argv[a]);
    if (!d) {
      fprintf(stderr, "cannot open directory %s\n", argv[a]);
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      char *buf = NULL;
      size_t len = 0;
      struct ss_error err = {0};
      if (ss_read_file(path, &buf, &len, &err))
        continue; /* directories and oversized files */
      LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
      free(buf);
      files++;
    }
    closedir(d);
  }
  printf("replayed %d inputs\n", files);
  return files > 0 ? 0 : 1;
}
