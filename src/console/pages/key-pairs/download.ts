// Saves text as a file the browser downloads: a Blob behind a temporary link that is clicked once.
// Used for a new key pair's private key, which exists nowhere else after CreateKeyPair answers.
export function downloadText(filename: string, text: string, type = "application/x-pem-file"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked a little later: some browsers start reading the Blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
