/** One clear sentence about what went wrong, announced to screen readers. */
export function ErrorLine({ message, testId }: { message: string | null | undefined; testId?: string }) {
  if (!message) return null;
  return (
    <p className="error-line" role="alert" data-testid={testId}>
      {message}
    </p>
  );
}
