// Drag and drop on the verify page: a file dropped on the form is checked at once.
// Without JavaScript the form works as it is (choose a file, press "Kiểm tra").
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const zone = document.getElementById("drop");
  const input = document.getElementById("file");
  if (!zone || !input) return;
  const over = (on) => (event) => {
    event.preventDefault();
    zone.classList.toggle("over", on);
  };
  zone.addEventListener("dragenter", over(true));
  zone.addEventListener("dragover", over(true));
  zone.addEventListener("dragleave", over(false));
  zone.addEventListener("drop", (event) => {
    over(false)(event);
    if (!event.dataTransfer || event.dataTransfer.files.length !== 1) return;
    input.files = event.dataTransfer.files;
    zone.requestSubmit();
  });
  // After an answer, move focus to it so a screen reader reads it first.
  const answer = document.getElementById("answer-heading");
  if (answer) answer.focus();
});
