export function cases(_work: string, _quick: boolean) { return []; }
