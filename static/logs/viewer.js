// Captured Images: the viewer shows the full JPEG of the thumbnail clicked (same authorized URL).
document.addEventListener("DOMContentLoaded", () => {
  const viewer = document.getElementById("image-viewer");
  if (!viewer) return;
  viewer.addEventListener("show.bs.modal", (event) => {
    const trigger = event.relatedTarget;
    document.getElementById("image-viewer-img").src = trigger.dataset.src;
    document.getElementById("image-viewer-img").alt = trigger.dataset.caption;
    document.getElementById("image-viewer-caption").textContent = trigger.dataset.caption;
  });
});
