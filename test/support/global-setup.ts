// Replaced below by the database snapshot set-up.
export default async function setup(): Promise<void> {}
