// Placeholder (the storage helper replaces it): the stored, unique and shared bytes of a snapshot
// or an image, as numbers and as a small chart.
export function SnapshotStorage(_p: { snapshotId: string }) {
  return null;
}

export function ImageStorage(_p: { imageId: string }) {
  return null;
}
