/* Links against an installed libkilnrt and checks what it reports. */
#include <kiln.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  if (strcmp(kiln_status_name(KILN_ERROR_IO), "KILN_ERROR_IO") != 0) {
    fprintf(stderr, "unexpected status name\n");
    return 1;
  }
  printf("kiln %s\n", kiln_version());
  return 0;
}
