/* Does nothing and exits 0: for tests that start many processes (tests/kernel/process.c). */
int main(void)
{
	return 0;
}
