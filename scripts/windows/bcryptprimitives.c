/*
 * bcryptprimitives.dll with one export, ProcessPrng, for Wine 8.0.
 *
 * Bun's Windows build imports bcryptprimitives.dll!ProcessPrng (objdump -p bun.exe lists it as
 * the only import from that DLL). Wine 8.0's bcryptprimitives has no such export, so the process
 * cannot start. This DLL, placed beside bun.exe (the application directory comes before the
 * system directory in the DLL search order), supplies it.
 *
 * ProcessPrng's contract (documented by Microsoft, "ProcessPrng function", bcryptprimitives.h
 * of the Windows SDK): BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData); fills the buffer
 * with cryptographically random bytes and always returns TRUE.
 *
 * It is implemented with advapi32's SystemFunction036 (RtlGenRandom, declared in the SDK's
 * ntsecapi.h: BOOLEAN RtlGenRandom(PVOID RandomBuffer, ULONG RandomBufferLength)), which Wine
 * implements over the host's random source. RtlGenRandom takes a ULONG length, so larger
 * requests are filled in pieces.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size > 0) {
    ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance; (void)reason; (void)reserved;
  return TRUE;
}
